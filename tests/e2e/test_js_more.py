"""JetStream beyond the basics, differential: max_msgs_per_subject, direct get, push consumers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import pytest
from nats.js.api import ConsumerConfig

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


async def push_story(url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=2)
    try:
        await js.add_stream(name="ORDERS", subjects=["orders.>"])
        for i in range(3):
            await js.publish(f"orders.{i}", b"m%d" % i)
        sub = await js.subscribe("orders.>", durable="push")
        first = [await sub.next_msg(timeout=2) for _ in range(3)]
        out["first"] = [(m.subject, m.data, m.metadata.sequence.stream) for m in first]
        for m in first:
            await m.ack()
        await js.publish("orders.9", b"later")
        later = await sub.next_msg(timeout=2)
        out["later"] = (later.subject, later.data, later.metadata.num_pending)
        await later.ack_sync()
        info = await js.consumer_info("ORDERS", "push")
        cfg = info.config
        out["info"] = (
            info.num_pending,
            info.num_ack_pending,
            info.delivered.stream_seq,
            info.push_bound,
            cfg.deliver_subject is not None,
            cfg.ack_policy,
            cfg.max_waiting,
        )
        seen: list[bytes] = []

        async def collect(msg: Any) -> None:
            seen.append(msg.data)

        eph = await js.subscribe("orders.1", cb=collect)
        slow = await js.subscribe(
            "orders.2", durable="slow", config=ConsumerConfig(ack_wait=0.5), manual_ack=True
        )
        once = await slow.next_msg(timeout=2)
        again = await slow.next_msg(timeout=3)  # not acked: redelivered after ack_wait
        out["redelivered"] = (once.data, again.data, again.metadata.num_delivered)
        await again.ack()
        await asyncio.sleep(0.2)
        out["ephemeral"] = seen
        workers: list[Any] = []
        got: list[str] = []

        async def work(msg: Any) -> None:
            got.append(msg.subject)

        for _ in range(2):
            workers.append(await js.subscribe("orders.>", queue="workers", cb=work))
        await asyncio.sleep(0.5)
        out["queue"] = sorted(got)
        for s in (sub, eph, slow, *workers):
            await s.unsubscribe()
        hb_inbox = nc.new_inbox()
        hb_sub = await nc.subscribe(hb_inbox)
        await js.add_consumer(
            "ORDERS",
            durable_name="hb",
            deliver_subject=hb_inbox,
            idle_heartbeat=0.3,
            filter_subject="orders.none",
        )
        beat = await hb_sub.next_msg(timeout=2)
        out["heartbeat"] = (beat.subject == hb_inbox, beat.headers, beat.data)
        out["pull_on_push"] = await outcome(
            nc.request("$JS.API.CONSUMER.MSG.NEXT.ORDERS.hb", b"", timeout=1)
        )
        if hasattr(out["pull_on_push"], "headers"):
            out["pull_on_push"] = out["pull_on_push"].headers
        out["flow_control"] = await outcome(
            js.subscribe("orders.>", durable="fc", flow_control=True)
        )
        if not isinstance(out["flow_control"], tuple | str):
            out["flow_control"] = "subscribed"
    finally:
        await nc.close()
    return out


def test_push_consumers(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await push_story(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await push_story(url)
        return real, stub

    real, stub = run(both())
    assert real["queue"] == ["orders.0", "orders.1", "orders.2", "orders.9"]
    assert stub == real
