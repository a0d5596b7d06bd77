"""Operator mode while connected, differential: what ends a live connection or a live import.

A user's `times` window closing, its account's `exp` passing, its account being deleted, and an
import's activation token expiring: each story runs on nats-server and on the stub at once, and
what the clients saw must be equal.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nats
import pytest

from nscpy import jwt
from tests.server_stub.chain import Chain
from tests.server_stub.harness import jwt_session, real_server, run, stub_server
from tests.support.natspy import flush_subscriptions

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def both(chain: Chain, name: str, fn: Callable[[str], Any], **kw: Any) -> Any:
    """Start both servers on their own copy of one config, run fn on both at once, compare."""
    confs = chain.config(f"{name}-real", **kw), chain.config(f"{name}-stub", **kw)
    with real_server(confs[0]) as real, stub_server(confs[1]) as stub:

        async def go() -> list[Any]:
            return list(await asyncio.gather(fn(real), fn(stub)))

        a, b = run(go(), timeout=40)
    gc.collect()
    assert a == b, f"\nnats-server {a!r}\nstub        {b!r}"
    return a


async def quiet_session(url: str, creds: Any, chunks: list[bytes], wait: float) -> bytes:
    """The raw bytes a JWT user got within `wait` seconds; server PINGs dropped (timing)."""
    out = await jwt_session(url, creds.jwt, creds.kp, chunks, quiet=wait, max_wait=wait)
    return out.replace(b"PING\r\n", b"")


def test_time_window_end_closes_the_connection(tmp_path: Path) -> None:
    chain = Chain.create(tmp_path, "APP")

    def window(u: jwt.UserClaims) -> None:
        def hms(t: float) -> str:
            return time.strftime("%H:%M:%S", time.gmtime(t))

        now = time.time()
        u.times = [jwt.TimeRange(hms(now - 60), hms(now + 2))]
        u.times_location = "Etc/UTC"

    creds = chain.user("APP", window)
    out = both(chain, "window", lambda url: quiet_session(url, creds, [], 3.5))
    assert out.endswith(b"-ERR 'User Authentication Expired'\r\n<EOF>")


def test_account_exp_closes_its_users(tmp_path: Path) -> None:
    chain = Chain.create(tmp_path, "APP")
    chain.edits["APP"] = [lambda c: setattr(c, "expires", int(time.time()) + 3)]
    creds = chain.user("APP")
    out = both(chain, "acc-exp", lambda url: quiet_session(url, creds, [], 4.0))
    assert out.endswith(b"-ERR 'Account Authentication Expired'\r\n<EOF>")


async def connect(url: str, creds: Any) -> Any:
    return await nats.connect(
        url, user_credentials=str(creds.path), max_reconnect_attempts=0, allow_reconnect=False
    )


async def received(sub: Any) -> list[str]:
    got = []
    while True:
        try:
            got.append((await sub.next_msg(timeout=0.2)).data.decode())
        except nats.errors.TimeoutError:
            return got


def test_activation_expiry_stops_the_import(tmp_path: Path) -> None:
    chain = Chain.create(tmp_path, "EXP", "IMP")
    exp, imp = chain.pub("EXP"), chain.pub("IMP")

    def exports(claims: jwt.AccountClaims) -> None:
        claims.exports = [
            jwt.Export(subject="priv.>", type="stream", token_req=True),
            jwt.Export(subject="psvc", type="service", token_req=True),
        ]

    def activation(kind: str, subject: str, until: int) -> str:
        act = jwt.ActivationClaims.new(imp)
        act.import_subject, act.import_type, act.expires = subject, kind, until
        return jwt.encode(act, chain.accounts["EXP"], iat=int(time.time()) - 10)

    def imports(claims: jwt.AccountClaims) -> None:
        until = int(time.time()) + 3
        claims.imports = [
            jwt.Import(
                subject="priv.>",
                account=exp,
                type="stream",
                token=activation("stream", "priv.>", until),
            ),
            jwt.Import(
                subject="psvc",
                account=exp,
                type="service",
                token=activation("service", "psvc", until),
            ),
        ]

    chain.edits = {"EXP": [exports], "IMP": [imports]}
    producer, consumer = chain.user("EXP"), chain.user("IMP")

    async def story(url: str) -> list[Any]:
        pub, nc = await connect(url, producer), await connect(url, consumer)

        async def answer(msg: Any) -> None:
            await msg.respond(b"pong")

        await pub.subscribe("psvc", cb=answer)
        sub = await nc.subscribe("priv.>")
        await flush_subscriptions(pub)
        await flush_subscriptions(nc)
        out: list[Any] = []
        for label in ("before", "after"):
            await pub.publish("priv.a", label.encode())
            await pub.flush()
            out.append(await received(sub))
            try:
                out.append((await nc.request("psvc", b"", timeout=0.5)).data)
            except Exception as exc:  # no responders / timeout are outcomes
                out.append(type(exc).__name__)
            out.append(nc.is_connected)
            if label == "before":
                await asyncio.sleep(3.2)
        await pub.close()
        await nc.close()
        return out

    out = both(chain, "activation", story)
    assert out == [["before"], b"pong", True, [], "NoRespondersError", True]


def test_deleted_account_and_its_users(tmp_path: Path) -> None:
    chain = Chain.create(tmp_path, "GONE")
    user, sys_user = chain.user("GONE"), chain.user("SYS")
    req = jwt.GenericClaims.new(chain.operator.public_key)
    req.data = {"accounts": [chain.pub("GONE")]}
    delete = jwt.encode(req, chain.operator, iat=int(time.time()))

    async def story(url: str) -> list[Any]:
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))

        nc = await nats.connect(
            url,
            user_credentials=str(user.path),
            max_reconnect_attempts=0,
            allow_reconnect=False,
            error_cb=on_error,
        )
        sub = await nc.subscribe("x")
        sys_nc = await connect(url, sys_user)
        reply = await sys_nc.request("$SYS.REQ.CLAIMS.DELETE", delete.encode(), timeout=2)
        out: list[Any] = [b'"code":200' in reply.data]
        await asyncio.sleep(0.5)
        out.append((nc.is_connected, str(nc.last_error)))
        if nc.is_connected:
            await nc.publish("x", b"still")
            out.append(await received(sub))
        out.append(errors)
        try:
            again = await connect(url, user)
            out.append("reconnect accepted")
            await again.close()
        except Exception as exc:  # nats-py's refusal is the observed outcome
            out.append(f"{type(exc).__name__}: {exc}")
        await nc.close()
        await sys_nc.close()
        return out

    out = both(chain, "delete", story, resolver="full")
    assert out[1] == (False, "nats: account authentication expired")
