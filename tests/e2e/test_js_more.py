"""JetStream features beyond the basics, differential: max_msgs_per_subject and direct get."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import pytest

from tests.e2e.test_js_nats_py import real_url, run, stub_url

pytestmark = pytest.mark.e2e


async def outcome(call: Any) -> Any:
    try:
        return await call
    except nats.js.errors.APIError as exc:
        return (type(exc).__name__, exc.code, exc.err_code, exc.description)
    except Exception as exc:  # no responders / timeouts are outcomes too
        return type(exc).__name__


def raw(msg: Any) -> Any:
    if not hasattr(msg, "seq"):
        return msg
    headers = {k: v for k, v in (msg.headers or {}).items() if k != "Nats-Time-Stamp"}
    return (msg.subject, msg.seq, msg.data, headers, msg.time is not None)


async def story(url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=2)
    try:
        kv = await js.add_stream(
            name="KV", subjects=["kv.>"], max_msgs_per_subject=2, allow_direct=True
        )
        out["config"] = (kv.config.max_msgs_per_subject, kv.config.allow_direct)
        for i in range(4):
            for key in ("a", "b"):
                await js.publish(f"kv.{key}", b"%s%d" % (key.encode(), i))
        await js.publish("kv.c", b"c0", headers={"X-Trace": "t1"})
        state = (await js.stream_info("KV")).state
        out["state"] = (state.messages, state.first_seq, state.last_seq, state.num_deleted)
        out["seq_gone"] = await outcome(js.get_msg("KV", 1))
        out["direct_seq"] = raw(await outcome(js.get_msg("KV", 8, direct=True)))
        out["direct_last"] = raw(await outcome(js.get_msg("KV", subject="kv.a", direct=True)))
        out["direct_hdrs"] = raw(await outcome(js.get_msg("KV", 9, direct=True)))
        out["direct_missing"] = raw(await outcome(js.get_msg("KV", 2, direct=True)))
        out["direct_no_subject"] = raw(
            await outcome(js.get_msg("KV", subject="kv.zz", direct=True))
        )
        out["direct_next"] = raw(
            await outcome(js.get_msg("KV", seq=1, subject="kv.b", next=True, direct=True))
        )
        for body in (b"", b"{bad", b"{}"):
            reply = await nc.request("$JS.API.DIRECT.GET.KV", body, timeout=1)
            out.setdefault("direct_status", []).append((reply.headers, reply.data))
        await js.update_stream(name="KV", subjects=["kv.>"], max_msgs_per_subject=1)
        state = (await js.stream_info("KV")).state
        out["tightened"] = (state.messages, state.first_seq, state.last_seq)
        await js.add_stream(name="PLAIN", subjects=["plain"])
        await js.publish("plain", b"p")
        out["not_direct"] = raw(await outcome(js.get_msg("PLAIN", 1, direct=True)))
    finally:
        await nc.close()
    return out


def test_per_subject_limit_and_direct_get(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await story(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await story(url)
        return real, stub

    real, stub = run(both())
    assert real["state"] == (5, 5, 9, None)  # two per subject kept: a2 b2 a3 b3 c0
    assert real["direct_status"][0] == ({"Status": "408", "Description": "Empty Request"}, b"")
    assert stub == real
