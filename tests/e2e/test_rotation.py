"""Rotation on a real nats-server with a full resolver, driven through the CLI.

- scheduled rotation: three clients on old creds keep a request/reply loop running through
   `rotate signing-key start` and `push` with no disconnect and no lost request; new creds
   connect; after `finish` the old creds are refused.
- emergency rotation: the connected users signed by the old key are disconnected within 2 s
   of the push; users with new creds connect.
- operator signing-key rotation, the system account included: push works at every step,
   and refuses to push before the servers trust the new key.
- renewal: renewed creds connect.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nscpy.jwt import AccountClaims, OperatorClaims, UserClaims, decode, peek
from tests.commands.cliutil import ok, run
from tests.support.natspy import flush_subscriptions
from tests.support.natsserver import RunningServer, free_port, serve_config

pytestmark = pytest.mark.e2e

FAST = ("--timeout", "0.5", "--expect-servers", "1")
CLIENTS = ("c1", "c2", "c3")


@dataclass
class World:
    home: Path
    conf: Path
    jwt_dir: Path
    server: RunningServer

    def nsc(self, *argv: str) -> str:
        return ok("-H", str(self.home), *argv)

    def url_flags(self) -> tuple[str, ...]:
        return ("-u", self.server.url, *FAST)

    def creds(self, account: str, user: str) -> Path:
        return self.home / "creds/O" / account / f"{user}.creds"

    def account(self, name: str) -> AccountClaims:
        claims = decode((self.home / "O/accounts" / name / f"{name}.jwt").read_text())
        assert isinstance(claims, AccountClaims)
        return claims

    def user(self, account: str, name: str) -> UserClaims:
        claims = decode((self.home / "O/accounts" / account / "users" / f"{name}.jwt").read_text())
        assert isinstance(claims, UserClaims)
        return claims

    def assert_valid(self) -> None:
        code, out, _ = run("-H", str(self.home), "validate", "-A")
        assert code == 0, out


def _make_store(home: Path, *, operator_sk: bool = False) -> None:
    h = ("-H", str(home))
    ok(
        *h,
        "add",
        "operator",
        "-n",
        "O",
        "--sys",
        *(["--generate-signing-key"] if operator_sk else []),
    )
    ok(*h, "add", "account", "-n", "APP")
    ok(*h, "edit", "account", "APP", "--sk", "generate")
    sk = json.loads(ok(*h, "describe", "account", "APP", "-F", "nats.signing_keys"))[0]
    for name in (*CLIENTS, "new"):
        ok(*h, "add", "user", "-a", "APP", "-n", name, "-K", sk)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    home = tmp_path / "home"
    _make_store(home)
    conf, jwt_dir = tmp_path / "server.conf", tmp_path / "jwt"
    ok("-H", str(home), "generate", "config", "--nats-resolver", "--dir", str(jwt_dir),
       "--config-file", str(conf))  # fmt: skip
    with serve_config(conf) as server:
        w = World(home, conf, jwt_dir, server)
        w.nsc("push", "-A", *w.url_flags())
        yield w


# -- live clients in a thread of their own ----------------------------------------------------


@dataclass
class Traffic:
    """Three clients: c1 answers svc.echo, c2 and c3 request in a loop until stopped."""

    url: str
    creds: dict[str, str]
    replies: int = 0
    lost: list[str] = field(default_factory=list)
    disconnects: dict[str, float] = field(default_factory=dict)
    ready: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)
    failure: list[BaseException] = field(default_factory=list)

    def run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by the test thread
            self.failure.append(exc)
            self.ready.set()

    async def _connect(self, name: str) -> object:
        import nats

        async def gone() -> None:
            if not self.stop.is_set():  # not the test's own close at the end
                self.disconnects.setdefault(name, time.monotonic())

        async def quiet(exc: Exception) -> None:
            pass

        return await nats.connect(
            self.url,
            user_credentials=self.creds[name],
            allow_reconnect=False,
            disconnected_cb=gone,
            error_cb=quiet,
            name=name,
        )

    async def _main(self) -> None:
        conns = {n: await self._connect(n) for n in CLIENTS}
        responder = conns["c1"]

        async def echo(msg: object) -> None:
            await msg.respond(msg.data)  # type: ignore[attr-defined]

        await responder.subscribe("svc.echo", cb=echo)  # type: ignore[attr-defined]
        await flush_subscriptions(responder)  # type: ignore[arg-type]
        self.ready.set()
        deadline = time.monotonic() + 120  # bounded: the test stops it long before
        n = 0
        while not self.stop.is_set() and time.monotonic() < deadline:
            for name in ("c2", "c3"):
                payload = f"{name}-{n}".encode()
                try:
                    reply = await conns[name].request("svc.echo", payload, timeout=2)  # type: ignore[attr-defined]
                    if reply.data == payload:
                        self.replies += 1
                    else:
                        self.lost.append(f"{payload!r} answered {reply.data!r}")
                except Exception as exc:
                    self.lost.append(f"{payload!r}: {type(exc).__name__} {exc}")
            n += 1
            await asyncio.sleep(0.01)
        if not self.stop.is_set():
            self.lost.append("the loop hit its deadline")
        for nc in conns.values():
            if not nc.is_closed:  # type: ignore[attr-defined]
                await nc.close()  # type: ignore[attr-defined]


def _start_traffic(w: World, creds: dict[str, str]) -> tuple[Traffic, threading.Thread]:
    traffic = Traffic(w.server.url, creds)
    thread = threading.Thread(target=traffic.run, daemon=True)
    thread.start()
    assert traffic.ready.wait(15), "clients did not connect"
    assert not traffic.failure, traffic.failure
    return traffic, thread


async def _try_connect(url: str, creds: Path) -> str:
    """'ok' after a request/reply round trip on the user's own inbox, else the error text."""
    import nats

    async def quiet(exc: Exception) -> None:
        pass

    try:
        nc = await nats.connect(
            url, user_credentials=str(creds), allow_reconnect=False, error_cb=quiet,
            max_reconnect_attempts=0, connect_timeout=10,
        )  # fmt: skip
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    try:
        sub = await nc.subscribe("probe")
        await nc.publish("probe", b"x")
        await sub.next_msg(timeout=2)
        return "ok"
    finally:
        await nc.close()


def connects(url: str, creds: Path) -> str:
    return asyncio.run(_try_connect(url, creds))


def _save_creds(w: World, tmp: Path) -> dict[str, Path]:
    saved = {}
    for name in (*CLIENTS, "new"):
        saved[name] = tmp / f"old-{name}.creds"
        shutil.copy(w.creds("APP", name), saved[name])
    return saved


# -- scheduled rotation -----------------------------------------------------------------------


def test_scheduled_rotation_keeps_clients_running(world: World, tmp_path: Path) -> None:
    w = world
    old_key = w.user("APP", "c1").issuer
    old_creds = _save_creds(w, tmp_path)
    traffic, thread = _start_traffic(w, {n: str(p) for n, p in old_creds.items()})
    try:
        time.sleep(0.3)
        start = json.loads(w.nsc("rotate", "signing-key", "start", "-a", "APP", "--json"))
        assert start["old_key"] == old_key and start["state"] == "started"
        new_key = start["new_key"]
        touched = {(t["kind"], t["name"]) for t in start["touched"]}
        assert touched == {("account", "APP"), *(("user", n) for n in (*CLIENTS, "new"))}
        time.sleep(0.3)
        pushed = json.loads(
            w.nsc("rotate", "signing-key", "push", "-a", "APP", *w.url_flags(), "--json")
        )
        assert pushed["error"] is None and pushed["push"] is not None
        time.sleep(0.5)
        # clients reconnecting with the new creds (rewritten by start) work, old ones too
        for name in (*CLIENTS, "new"):
            assert connects(w.server.url, w.creds("APP", name)) == "ok"
        assert connects(w.server.url, old_creds["new"]) == "ok"
        time.sleep(0.3)
    finally:
        traffic.stop.set()
        thread.join(15)
    assert not traffic.failure, traffic.failure
    assert traffic.lost == [] and traffic.disconnects == {}
    assert traffic.replies > 20
    assert w.user("APP", "c1").issuer == new_key
    w.assert_valid()

    done = json.loads(
        w.nsc("rotate", "signing-key", "finish", "-a", "APP", *w.url_flags(), "--json")
    )
    assert done["state"] == "finished" and done["error"] is None
    assert old_key not in w.account("APP").signing_keys
    assert new_key in w.account("APP").signing_keys
    assert not (w.home / "O/.rotations/accounts/APP.json").exists()
    time.sleep(0.3)
    refused = connects(w.server.url, old_creds["c2"])
    assert refused != "ok" and "authorization" in refused.lower()
    assert connects(w.server.url, w.creds("APP", "c2")) == "ok"
    w.assert_valid()


# -- emergency rotation -----------------------------------------------------------------------


def test_emergency_rotation_disconnects_old_users(world: World, tmp_path: Path) -> None:
    w = world
    old_key = w.user("APP", "c1").issuer
    old_creds = _save_creds(w, tmp_path)
    traffic, thread = _start_traffic(w, {n: str(p) for n, p in old_creds.items()})
    try:
        out = json.loads(
            w.nsc("rotate", "signing-key", "emergency", "-a", "APP", *w.url_flags(), "--json")
        )
        pushed_at = time.monotonic()
        assert out["state"] == "finished" and out["old_key"] == old_key
        deadline = pushed_at + 2.0
        while len(traffic.disconnects) < len(CLIENTS) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        traffic.stop.set()
        thread.join(15)
    assert sorted(traffic.disconnects) == sorted(CLIENTS), traffic.disconnects
    assert all(at <= pushed_at + 2.0 for at in traffic.disconnects.values())
    assert old_key not in w.account("APP").signing_keys
    assert connects(w.server.url, w.creds("APP", "c1")) == "ok"
    assert connects(w.server.url, old_creds["c1"]) != "ok"
    w.assert_valid()


# -- renewal (connect) ------------------------------------------------------------------------


def test_renewed_creds_connect(world: World) -> None:
    w = world
    w.nsc("add", "user", "-a", "APP", "-n", "short", "--expiry", "1d")
    out = json.loads(w.nsc("renew", "users", "-a", "APP", "--json"))
    assert [r["name"] for r in out["renewed"]] == ["short"]
    assert w.user("APP", "short").expires == out["expiry"]
    assert connects(w.server.url, w.creds("APP", "short")) == "ok"


# -- operator signing-key rotation ------------------------------------------------------------


def _operator(home: Path) -> OperatorClaims:
    claims = decode((home / "O/O.jwt").read_text())
    assert isinstance(claims, OperatorClaims)
    return claims


def _deploy(home: Path, conf: Path, jwt_dir: Path) -> None:
    """Write the server config from the store's operator JWT (what a deployment does)."""
    ok("-H", str(home), "generate", "config", "--nats-resolver", "--dir", str(jwt_dir),
       "--config-file", str(conf), "--force")  # fmt: skip


def test_operator_signing_key_rotation_with_sys(tmp_path: Path) -> None:
    home = tmp_path / "home"
    h = ("-H", str(home))
    ok(*h, "add", "operator", "-n", "O", "--sys", "--generate-signing-key")
    old_key = _operator(home).signing_keys[0]
    ok(*h, "edit", "account", "SYS", "-K", old_key)  # SYS too is issued by the signing key
    ok(*h, "add", "account", "-n", "APP", "-K", old_key)
    ok(*h, "add", "user", "-a", "APP", "-n", "c1")
    conf, jwt_dir = tmp_path / "server.conf", tmp_path / "jwt"
    _deploy(home, conf, jwt_dir)
    port = free_port()

    def account_issuer(name: str) -> str:
        return peek((home / "O/accounts" / name / f"{name}.jwt").read_text()).issuer

    with serve_config(conf, port=port) as server:
        url = ("-u", server.url, *FAST)
        ok(*h, "push", "-A", *url)
        start = json.loads(ok(*h, "rotate", "operator-signing-key", "start", "--json"))
        new_key = start["new_key"]
        assert {(t["kind"], t["name"]) for t in start["touched"]} == {
            ("operator", "O"), ("account", "APP"), ("account", "SYS")
        }  # fmt: skip
        assert account_issuer("SYS") == account_issuer("APP") == new_key
        assert _operator(home).signing_keys == [old_key, new_key]
        # the running server does not trust the new key yet: nothing is pushed
        code, out, err = run(*h, "rotate", "operator-signing-key", "push", *url, "--json")
        assert code == 1 and f"not every server trusts {new_key}" in err
        assert json.loads(out)["touched"] == []
        assert peek((jwt_dir / f"{_key(home, 'APP')}.jwt").read_text()).issuer == old_key
        assert "stores 2 accounts" in ok(*h, "push", "-D", *url)  # push itself still works
        # a plain push would hand the server an account it cannot verify: refused
        code, _, err = run(*h, "push", "-a", "APP", *url)
        assert code == 1 and "operator signing-key rotation in progress" in err
        assert connects(server.url, home / "creds/O/APP/c1.creds") == "ok"

    _deploy(home, conf, jwt_dir)  # the operator JWT with both keys; restart
    with serve_config(conf, port=port) as server:
        url = ("-u", server.url, *FAST)
        assert connects(server.url, home / "creds/O/APP/c1.creds") == "ok"
        pushed = json.loads(ok(*h, "rotate", "operator-signing-key", "push", *url, "--json"))
        assert [t["name"] for t in pushed["touched"]] == ["APP", "SYS"]  # the system account last
        for name in ("APP", "SYS"):
            stored = (jwt_dir / f"{_key(home, name)}.jwt").read_text().strip()
            assert stored == (home / "O/accounts" / name / f"{name}.jwt").read_text().strip()
        assert connects(server.url, home / "creds/O/APP/c1.creds") == "ok"
        done = json.loads(ok(*h, "rotate", "operator-signing-key", "finish", *url, "--json"))
        assert done["state"] == "finished" and done["error"] is None
        assert _operator(home).signing_keys == [new_key]
        assert not (home / "O/.rotations/operator.json").exists()

    _deploy(home, conf, jwt_dir)  # the operator JWT without the old key; restart
    with serve_config(conf, port=port) as server:
        ok(*h, "push", "-A", "-u", server.url, *FAST)
        assert connects(server.url, home / "creds/O/APP/c1.creds") == "ok"
    code, out, _ = run(*h, "validate", "-A")
    assert code == 0, out


def _key(home: Path, account: str) -> str:
    return peek((home / "O/accounts" / account / f"{account}.jwt").read_text()).subject
