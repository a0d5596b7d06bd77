"""JetStream in operator mode, differential: account JWT limits switch it on, cap it, switch it off.

Both servers run the same operator config with a `jetstream {}` block (each its own store_dir);
the same nats-py story runs on both at once and the observed outcomes must be equal.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import pytest

from nscpy import jwt
from tests.server_stub.chain import Chain
from tests.server_stub.harness import real_server, run, stub_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def js_limits(claims: jwt.AccountClaims) -> None:
    """Two streams, two consumers, 4 KiB of file storage and 1 KiB of memory."""
    limits = claims.limits.jetstream
    limits.disk_storage, limits.mem_storage = 4096, 1024
    limits.streams, limits.consumer = 2, 2


def strict_limits(claims: jwt.AccountClaims) -> None:
    """File storage only, unlimited, but every stream must set max_bytes (at most 1000)."""
    limits = claims.limits.jetstream
    limits.disk_storage, limits.streams, limits.consumer = -1, -1, -1
    limits.max_bytes_required, limits.disk_max_stream_bytes = True, 1000


def pair(chain: Chain, name: str, **kw: Any) -> tuple[Path, Path]:
    """One config per server: same trust chain, separate JetStream directories."""
    return tuple(  # type: ignore[return-value]
        chain.config(
            f"{name}-{kind}",
            extra=f'jetstream {{ store_dir: "{chain.tmp / f"{name}-{kind}-js"}" }}\n',
            **kw,
        )
        for kind in ("real", "stub")
    )


def both(confs: tuple[Path, Path], fn: Callable[[str], Any]) -> Any:
    """Run fn against nats-server (confs[0]) and the stub (confs[1]) at once; compare."""
    with real_server(confs[0]) as real, stub_server(confs[1]) as stub:

        async def go() -> list[Any]:
            return list(await asyncio.gather(fn(real), fn(stub)))

        a, b = run(go(), timeout=40)
    gc.collect()
    assert a == b, f"\nnats-server {a!r}\nstub        {b!r}"
    return a


async def connect(url: str, creds: Any) -> Any:
    return await nats.connect(
        url, user_credentials=str(creds.path), max_reconnect_attempts=0, allow_reconnect=False
    )


async def outcome(call: Any) -> Any:
    """What a JetStream call returned, or its API error as (code, err_code, description)."""
    try:
        return await call
    except nats.js.errors.APIError as exc:
        return (exc.code, exc.err_code, exc.description)
    except Exception as exc:  # timeouts and no-responders are outcomes too
        return type(exc).__name__


async def strict_story(url: str, creds: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nc = await connect(url, creds)
    js = nc.jetstream(timeout=2)
    try:
        out["memory"] = await outcome(js.add_stream(name="M", storage="memory", max_bytes=100))
        out["no_max_bytes"] = await outcome(js.add_stream(name="F", subjects=["f"]))
        out["over_stream_cap"] = await outcome(js.add_stream(name="F", max_bytes=2000))
        created = await outcome(js.add_stream(name="F", subjects=["f"], max_bytes=1000))
        out["ok"] = created.config.max_bytes
        out["fill"] = [
            (await outcome(js.publish("f", b"z" * 300))).seq
            for _ in range(5)  # discard old
        ]
        state = (await js.stream_info("F")).state
        out["state"] = (state.messages, state.first_seq)
    finally:
        await nc.close()
    return out


async def story(url: str, enabled: Any, disabled: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nc = await connect(url, enabled)
    js = nc.jetstream(timeout=2)
    try:
        info = await js.account_info()
        out["account"] = (info.streams, info.consumers, info.limits.max_streams)
        out["limits"] = (
            info.limits.max_storage,
            info.limits.max_memory,
            info.limits.max_consumers,
        )
        created = await js.add_stream(name="ORDERS", subjects=["orders.>"])
        out["created"] = created.config.name
        acks = [await js.publish(f"orders.{i}", b"x" * 100) for i in range(3)]
        out["acks"] = [(a.stream, a.seq) for a in acks]
        sub = await js.pull_subscribe("orders.>", durable="all")
        msgs = await sub.fetch(3, timeout=2)
        for m in msgs:
            await m.ack_sync()
        out["fetched"] = [(m.subject, m.metadata.sequence.stream) for m in msgs]
        got = await js.get_msg("ORDERS", 2)
        out["get"] = (got.subject, got.data)
        # limits from the JWT: the storage cap refuses a publish that does not fit
        out["too_big"] = await outcome(js.publish("orders.big", b"y" * 5000))
        out["second"] = (await outcome(js.add_stream(name="B", subjects=["b"]))).config.name
        out["third"] = await outcome(js.add_stream(name="C", subjects=["c"]))
        await js.add_consumer("ORDERS", durable_name="two")
        out["consumer_3"] = await outcome(js.add_consumer("ORDERS", durable_name="three"))
        out["memory_cap"] = await outcome(
            js.update_stream(name="B", subjects=["b"], storage="memory", max_bytes=2048)
        )
        state = (await js.stream_info("ORDERS")).state
        out["state"] = (state.messages, state.consumer_count)
    finally:
        await nc.close()
    nc = await connect(url, disabled)
    js = nc.jetstream(timeout=2)
    try:
        out["off_info"] = await outcome(js.account_info())
        out["off_add"] = await outcome(js.add_stream(name="X", subjects=["x"]))
        out["off_publish"] = await outcome(js.publish("x", b"1", timeout=0.5))
    finally:
        await nc.close()
    return out


def test_jetstream_follows_account_limits(tmp_path: Path) -> None:
    chain = Chain.create(tmp_path, "JS", "PLAIN")
    chain.edits["JS"] = [js_limits]
    enabled, disabled = chain.user("JS"), chain.user("PLAIN")
    result = both(pair(chain, "mem"), lambda url: story(url, enabled, disabled))
    assert result["off_info"] == (503, 10039, "JetStream not enabled for account")
    assert result["created"] == "ORDERS"
    assert result["too_big"] == (400, 10002, "resource limits exceeded for account")


def test_jetstream_stream_limits_from_account(tmp_path: Path) -> None:
    chain = Chain.create(tmp_path, "STRICT")
    chain.edits["STRICT"] = [strict_limits]
    creds = chain.user("STRICT")
    result = both(pair(chain, "strict"), lambda url: strict_story(url, creds))
    assert result["ok"] == 1000


async def push(nc: Any, token: str) -> Any:
    msg = await nc.request("$SYS.REQ.CLAIMS.UPDATE", token.encode(), timeout=2)
    return msg.data.count(b'"code":200')


async def update_story(url: str, chain: Chain, creds: Any, sys_creds: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    base = int(time.time())
    sys_nc = await connect(url, sys_creds)
    nc = await connect(url, creds)
    js = nc.jetstream(timeout=2)
    try:
        out["before"] = await outcome(js.account_info())
        out["push_on"] = await push(sys_nc, chain.account_jwt("LATE", js_limits, iat=base + 1))
        info = await js.account_info()
        out["enabled"] = (info.streams, info.limits.max_streams, info.limits.max_storage)
        await js.add_stream(name="P", subjects=["p"])
        out["ack"] = (await js.publish("p", b"kept")).seq
        out["push_off"] = await push(sys_nc, chain.account_jwt("LATE", iat=base + 2))
        out["off_info"] = await outcome(js.account_info())
        out["off_publish"] = await outcome(js.publish("p", b"lost", timeout=0.5))
        out["push_again"] = await push(sys_nc, chain.account_jwt("LATE", js_limits, iat=base + 3))
        out["recovered"] = await outcome(js.get_msg("P", 1))
        if not isinstance(out["recovered"], tuple | str):
            out["recovered"] = out["recovered"].data
    finally:
        await nc.close()
        await sys_nc.close()
    return out


def test_pushed_account_update_switches_jetstream(tmp_path: Path) -> None:
    chain = Chain.create(tmp_path, "LATE")
    creds, sys_creds = chain.user("LATE"), chain.user("SYS")
    result = both(
        pair(chain, "full", resolver="full"),
        lambda url: update_story(url, chain, creds, sys_creds),
    )
    assert result["enabled"] == (0, 2, 4096)
    assert result["off_info"] == (503, 10039, "JetStream not enabled for account")
    assert result["recovered"] == b"kept"  # disabling keeps the files; re-enabling recovers
