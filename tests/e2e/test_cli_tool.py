"""`nscpy tool pub|sub|req|reply` as stored users against a real nats-server (memory resolver).

sub and reply run as child processes (they wait for messages); pub and req run in-process.
Every loop is bounded by --max-messages and/or --timeout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.commands.cliutil import ok, run
from tests.support.cli_e2e import build_store, finish, spawn, wait_listening
from tests.support.natsserver import RunningServer, serve_config

pytestmark = pytest.mark.e2e


@dataclass
class World:
    home: Path
    server: RunningServer

    def args(self, user: str) -> tuple[str, ...]:
        return ("-a", "APP", "-u", user, "--nats", self.server.url)

    def nscpy(self, *argv: str) -> tuple[int, str, str]:
        return run("-H", str(self.home), *argv)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("tool")
    home = base / "home"
    build_store(home)
    conf = base / "mem.conf"
    ok("-H", str(home), "generate", "config", "--mem-resolver", "--config-file", str(conf))
    with serve_config(conf) as server:
        yield World(home, server)


def test_sub_prints_what_pub_sends(world: World) -> None:
    sub = spawn(world.home, "tool", "sub", *world.args("alice"), "orders.>",
                "--max-messages", "2", "--timeout", "15")  # fmt: skip
    try:
        wait_listening(sub)
        assert world.nscpy("tool", "pub", *world.args("alice"), "orders.a", "one") == (
            0,
            "published [orders.a]: 'one'\n",
            "",
        )
        ok("-H", str(world.home), "tool", "pub", *world.args("bob"), "orders.b", "two")
        code, out, err = finish(sub)
    finally:
        sub.kill()
    assert code == 0
    assert out == "[#1] received on [orders.a]: 'one'\n[#2] received on [orders.b]: 'two'\n"
    assert err == "received 2 messages\n"


def test_permission_violations_exit_1(world: World) -> None:
    code, out, err = world.nscpy("tool", "pub", *world.args("alice"), "billing.x", "no")
    assert (code, out) == (1, "")
    assert err == (
        'nscpy: error: the server refused: permissions violation for publish to "billing.x"\n'
    )
    code, out, err = world.nscpy("tool", "sub", *world.args("alice"), "billing.>", "--timeout", "5")
    assert (code, out) == (1, "")
    assert err == (
        'nscpy: error: the server refused: permissions violation for subscription to "billing.>"\n'
    )


def test_sub_stops_at_its_timeout(world: World) -> None:
    started = time.monotonic()
    code, out, err = world.nscpy("tool", "sub", *world.args("bob"), "quiet", "--timeout", "0.3")
    assert time.monotonic() - started < 3
    assert (code, out) == (0, "")
    assert err == "listening on [quiet]\nreceived 0 messages\n"


@pytest.mark.parametrize(("response", "expected"), [("pong", "pong"), (None, "ping")])
def test_req_gets_the_reply(world: World, response: str | None, expected: str) -> None:
    extra = [response] if response else []
    replier = spawn(world.home, "tool", "reply", *world.args("bob"), "orders.svc", *extra,
                    "-q", "workers", "--max-messages", "1", "--timeout", "15")  # fmt: skip
    try:
        wait_listening(replier)
        out = ok("-H", str(world.home), "tool", "req", *world.args("alice"), "orders.svc", "ping")
        code, rout, rerr = finish(replier)
    finally:
        replier.kill()
    assert out == f"received reply on [orders.svc]: {expected!r}\n"
    assert (code, rout, rerr) == (
        0,
        "[#1] received on [orders.svc]: 'ping'\n",
        "answered 1 request\n",
    )


def test_req_without_responder(world: World) -> None:
    code, _, err = world.nscpy("tool", "req", *world.args("bob"), "nobody.home", "--timeout", "2")
    assert (code, err) == (
        1,
        "nscpy: error: no responders: nobody is subscribed to 'nobody.home'\n",
    )


def test_choosing_the_user_and_the_server(world: World) -> None:
    code, _, err = world.nscpy("tool", "pub", "-a", "APP", "--nats", world.server.url, "x")
    assert (code, err) == (
        1,
        "nscpy: error: account 'APP' has several users: pass -u USER (alice, bob)\n",
    )
    code, _, err = world.nscpy("tool", "pub", "-a", "APP", "-u", "alice", "orders.x")
    assert (code, err) == (
        1,
        "nscpy: error: no server URL: pass --nats nats://HOST:PORT or add one to operator 'O' "
        "with 'nscpy edit operator --service-url nats://HOST:PORT'\n",
    )
    # the operator's service URL is the default server
    ok("-H", str(world.home), "edit", "operator", "--service-url", world.server.url)
    try:
        out = ok("-H", str(world.home), "tool", "pub", "-a", "APP", "-u", "bob", "orders.x", "1")
        assert out == "published [orders.x]: '1'\n"
    finally:
        ok("-H", str(world.home), "edit", "operator", "--rm-service-url", world.server.url)
