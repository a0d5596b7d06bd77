"""What the authorization commands write, a real nats-server enforces.

One store is built with the nscpy CLI (edit user, edit signing-key + add user -K, revocations,
add export/import with and without an activation, edit account --js-*), its memory-resolver
config comes from `nscpy generate config`, and one nats-server (with JetStream) serves every
scenario; nats-py is the client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import pytest
from nats.errors import Error as NatsError

from nscpy.jwt import peek
from tests.commands.cliutil import ok
from tests.support.natsserver import RunningServer, nats_server

pytestmark = pytest.mark.e2e


@dataclass
class World:
    home: Path
    server: RunningServer

    def creds(self, account: str, user: str) -> str:
        return str(self.home / "creds/O" / account / f"{user}.creds")


def _build(home: Path) -> None:
    h = ("-H", str(home))
    ok(*h, "add", "operator", "-n", "O", "--sys")
    ok(*h, "add", "account", "-n", "APP")
    ok(*h, "add", "user", "-a", "APP", "-n", "alice")
    ok(*h, "edit", "user", "-a", "APP", "-n", "alice", "--allow-pub", "orders.>",
       "--deny-pub", "orders.secret", "--allow-sub", "orders.>,_INBOX.>")  # fmt: skip
    ok(*h, "edit", "signing-key", "-a", "APP", "--sk", "generate", "--role", "dev",
       "--allow-pub", "dev.{{name()}}.>", "--allow-sub", "dev.{{name()}}.>,_INBOX.>")  # fmt: skip
    ok(*h, "add", "user", "-a", "APP", "-n", "bob", "-K", "dev")
    # revoked users: 'gone' stays revoked, 'back' is re-issued after the cut-off
    ok(*h, "add", "user", "-a", "APP", "-n", "gone")
    ok(*h, "add", "user", "-a", "APP", "-n", "back")
    users = home / "O/accounts/APP/users"
    cut = max(peek((users / f"{u}.jwt").read_text()).issued_at for u in ("gone", "back"))
    ok(*h, "revoke", "user", "-a", "APP", "-n", "gone", "--at", str(cut))
    ok(*h, "revocations", "add-user", "-a", "APP", "-u", "back", "--at", str(cut))
    while int(time.time()) <= cut:  # the re-issued JWT must be issued after the cut-off
        time.sleep(0.05)
    ok(*h, "edit", "user", "-a", "APP", "-n", "back", "--tag", "reissued")
    # services: SVC exports, CLIENT imports (public, and private with an activation)
    ok(*h, "add", "account", "-n", "SVC")
    ok(*h, "add", "user", "-a", "SVC", "-n", "responder")
    ok(*h, "add", "export", "-a", "SVC", "-s", "svc.time", "-r")
    ok(*h, "add", "export", "-a", "SVC", "-s", "svc.priv.*", "-r", "-p")
    ok(*h, "add", "account", "-n", "CLIENT")
    ok(*h, "add", "user", "-a", "CLIENT", "-n", "client")
    ok(*h, "add", "import", "-a", "CLIENT", "--src-account", "SVC", "--remote-subject", "svc.time")
    token = home / "priv.jwt"
    ok(*h, "generate", "activation", "-a", "SVC", "-s", "svc.priv.*", "-t", "CLIENT",
       "-o", str(token), "--expiry", "1d")  # fmt: skip
    ok(*h, "add", "import", "-a", "CLIENT", "-u", str(token), "-s", "priv.*")
    # JetStream: enabled for JS, not for CLIENT
    ok(*h, "add", "account", "-n", "JS")
    ok(*h, "add", "user", "-a", "JS", "-n", "js")
    ok(*h, "edit", "account", "JS", "--js-mem-storage", "10M", "--js-disk-storage", "10M",
       "--js-streams", "5", "--js-consumer", "5")  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("authz")
    home = base / "nsc"
    _build(home)
    config = ok("-H", str(home), "generate", "config", "--mem-resolver")
    config += f"\njetstream {{ store_dir: '{base / 'js'}' }}\n"
    with nats_server(base / "srv", config) as server:
        yield World(home, server)


async def _connect(world: World, account: str, user: str, errors: list[Exception]) -> Any:
    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    return await nats.connect(
        world.server.url,
        user_credentials=world.creds(account, user),
        error_cb=on_error,
        allow_reconnect=False,
        max_reconnect_attempts=0,
        connect_timeout=5,
    )


async def _wait_for(errors: list[Exception], count: int = 1) -> None:
    for _ in range(100):
        if len(errors) >= count:
            return
        await asyncio.sleep(0.02)


def _run(coro: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(asyncio.wait_for(coro(), timeout=30))


def test_edited_user_permissions_are_enforced(world: World) -> None:
    async def scenario() -> tuple[bytes, list[str]]:
        errors: list[Exception] = []
        nc = await _connect(world, "APP", "alice", errors)
        try:
            sub = await nc.subscribe("orders.>")
            await nc.publish("orders.new", b"one")
            msg = await sub.next_msg(timeout=5)
            await nc.publish("orders.secret", b"two")
            await nc.flush()
            await _wait_for(errors)
            assert nc.is_connected  # a permission error does not close the connection
            return msg.data, [str(e).lower() for e in errors]
        finally:
            await nc.close()

    data, errors = _run(scenario)
    assert data == b"one"
    assert errors == ['nats: permissions violation for publish to "orders.secret"']


def test_scoped_user_gets_the_template_with_name_expanded(world: World) -> None:
    async def scenario() -> tuple[bytes, list[str]]:
        errors: list[Exception] = []
        nc = await _connect(world, "APP", "bob", errors)
        try:
            sub = await nc.subscribe("dev.bob.>")
            await nc.publish("dev.bob.x", b"mine")
            msg = await sub.next_msg(timeout=5)
            await nc.publish("dev.alice.x", b"theirs")
            await nc.flush()
            await _wait_for(errors, 1)
            await nc.subscribe("dev.alice.>")
            await nc.flush()
            await _wait_for(errors, 2)
            await nc.publish("orders.new", b"not in the scope")
            await nc.flush()
            await _wait_for(errors, 3)
            return msg.data, [str(e).lower() for e in errors]
        finally:
            await nc.close()

    data, errors = _run(scenario)
    assert data == b"mine"
    assert errors == [
        'nats: permissions violation for publish to "dev.alice.x"',
        'nats: permissions violation for subscription to "dev.alice.>"',
        'nats: permissions violation for publish to "orders.new"',
    ]


def test_revoked_user_is_refused_and_reissued_user_connects(world: World) -> None:
    async def refused() -> None:
        await _connect(world, "APP", "gone", [])

    with pytest.raises((NatsError, OSError)) as info:
        _run(refused)
    assert "authorization violation" in str(info.value).lower()

    async def allowed() -> bool:
        nc = await _connect(world, "APP", "back", [])
        try:
            await nc.flush()
            return bool(nc.is_connected)
        finally:
            await nc.close()

    assert _run(allowed)


def test_exported_services_answer_importers(world: World) -> None:
    async def scenario() -> tuple[bytes, bytes]:
        responder = await _connect(world, "SVC", "responder", [])
        client = await _connect(world, "CLIENT", "client", [])
        try:

            async def answer(msg: Any) -> None:
                await msg.respond(b"answer from " + msg.subject.encode())

            await responder.subscribe("svc.time", cb=answer)
            await responder.subscribe("svc.priv.*", cb=answer)
            await responder.flush()

            async def ask(subject: str) -> bytes:
                # the server wires the importer's interest asynchronously; on a loaded machine the
                # first request can beat it, so retry no-responders a bounded number of times
                for _ in range(50):
                    try:
                        reply = await client.request(subject, b"?", timeout=5)
                        data: bytes = reply.data
                        return data
                    except nats.errors.NoRespondersError:
                        await asyncio.sleep(0.1)
                raise AssertionError(f"no responder for {subject} after 5 s")

            return await ask("svc.time"), await ask("priv.x")
        finally:
            await client.close()
            await responder.close()

    public, private = _run(scenario)
    assert public == b"answer from svc.time"
    assert private == b"answer from svc.priv.x"


def test_jetstream_only_where_the_account_has_limits(world: World) -> None:
    async def create(account: str, user: str) -> Any:
        nc = await _connect(world, account, user, [])
        try:
            js = nc.jetstream(timeout=5)
            return await js.add_stream(name=f"S_{account}", subjects=[f"{account.lower()}.>"])
        finally:
            await nc.close()

    info = _run(lambda: create("JS", "js"))
    assert info.config.name == "S_JS"
    with pytest.raises(nats.js.errors.APIError) as refused:
        _run(lambda: create("CLIENT", "client"))
    assert (refused.value.code, refused.value.err_code) == (503, 10039)
    assert refused.value.description == "JetStream not enabled for account"
