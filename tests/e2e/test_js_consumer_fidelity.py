"""Consumers and stream settings through nats-py, differential: nats-server and the stub.

Ordered consumers, flow-controlled push consumers, pull requests with heartbeats, a pull
request left on an abandoned inbox, queue-group push consumers, rollup, sealed, per-message
TTL and consumer pause: the same program runs on both servers and the results must be equal.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import pytest
from nats.js import api
from nats.js.api import ConsumerConfig, DeliverPolicy

from tests.e2e.test_js_nats_py import real_url, run, stub_url

pytestmark = pytest.mark.e2e


async def outcome(call: Any) -> Any:
    try:
        return await call
    except nats.js.errors.APIError as exc:
        fields = ("code", "err_code", "description")
        return (type(exc).__name__, *(getattr(exc, f, None) for f in fields))
    except Exception as exc:
        return type(exc).__name__


def both(tmp_path: Path, story: Any) -> tuple[Any, Any]:
    async def go() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await story(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await story(url)
        return real, stub

    return run(go())


async def delivery_story(url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    try:
        await js.add_stream(name="EV", subjects=["ev.>"])
        for i in range(40):
            await js.publish(f"ev.{i % 4}", b"x" * 40_000 + b"%d" % i)  # 1.6 MB: flow control
        ordered = await js.subscribe("ev.>", ordered_consumer=True)
        got = [await ordered.next_msg(timeout=10) for _ in range(40)]
        out["ordered"] = [(m.subject, m.data[-2:], m.metadata.sequence.stream) for m in got]
        info = await ordered._jsi.get_consumer_info() if hasattr(ordered, "_jsi") else None
        out["ordered_cfg"] = (
            (info.config.flow_control, info.config.ack_policy, info.config.mem_storage)
            if info
            else None
        )
        await ordered.unsubscribe()
        fc = await js.subscribe(
            "ev.>", durable="fc", config=ConsumerConfig(flow_control=True, idle_heartbeat=1.0)
        )
        seqs = []
        for _ in range(40):
            msg = await fc.next_msg(timeout=10)
            seqs.append(msg.metadata.sequence.stream)
            await msg.ack()
        out["flow_control"] = seqs
        await fc.unsubscribe()
        last = await js.subscribe(
            "ev.*", ordered_consumer=True, deliver_policy=DeliverPolicy.LAST_PER_SUBJECT
        )
        lasts = [await last.next_msg(timeout=10) for _ in range(4)]
        out["last_per_subject"] = [(m.subject, m.metadata.sequence.stream) for m in lasts]
        await last.unsubscribe()
        # pull with idle heartbeats: the client sees no error while the request waits
        pull = await js.pull_subscribe("ev.9", durable="hb")
        out["pull_hb"] = await outcome(pull.fetch(1, timeout=1.5, heartbeat=0.2))
        for _ in range(50):  # the server expires the request just after the client gave up
            if (await js.consumer_info("EV", "hb")).num_waiting == 0:
                break
            await asyncio.sleep(0.02)
        # a request whose inbox nobody listens to any more: a later message stays pending
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox)
        await nc.publish(
            "$JS.API.CONSUMER.MSG.NEXT.EV.hb",
            json.dumps({"batch": 1, "expires": 5_000_000_000}).encode(),
            reply=inbox,
        )
        await nc.flush()
        await sub.unsubscribe()
        await nc.flush()
        await js.publish("ev.9", b"late")
        await asyncio.sleep(0.3)
        info = await js.consumer_info("EV", "hb")
        out["abandoned"] = (info.num_pending, info.num_ack_pending, info.delivered.stream_seq)
        late = await pull.fetch(1, timeout=10)
        out["late"] = (late[0].data, late[0].metadata.num_delivered)
        # a raw pull request with a heartbeat: heartbeats arrive on the inbox
        hb_inbox = nc.new_inbox()
        hb_sub = await nc.subscribe(hb_inbox)
        await nc.publish(
            "$JS.API.CONSUMER.MSG.NEXT.EV.hb",
            json.dumps(
                {"batch": 1, "expires": 1_000_000_000, "idle_heartbeat": 200_000_000}
            ).encode(),
            reply=hb_inbox,
        )
        beat = await hb_sub.next_msg(timeout=10)
        out["pull_beat"] = (
            (beat.headers or {}).get("Status"),
            (beat.headers or {}).get("Description"),
        )
        out["pull_beat_too_large"] = (
            await nc.request(
                "$JS.API.CONSUMER.MSG.NEXT.EV.hb",
                json.dumps(
                    {"batch": 1, "expires": 100_000_000, "idle_heartbeat": 90_000_000}
                ).encode(),
                timeout=10,
            )
        ).headers
    finally:
        await nc.close()
    return out


def test_ordered_flow_control_and_pull_heartbeats(tmp_path: Path) -> None:
    real, stub = both(tmp_path, delivery_story)
    assert [s for _, _, s in real["ordered"]] == list(range(1, 41))
    assert real["abandoned"] == (1, 0, 0)  # the late message was not handed to the dead inbox
    assert real["pull_beat"] == ("100", "Idle Heartbeat")
    assert stub == real


async def queue_story(url: str) -> dict[str, Any]:
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    counts: Counter[int] = Counter()
    done = asyncio.Event()
    try:
        await js.add_stream(name="WORK", subjects=["work.>"])

        def handler(member: int) -> Any:
            async def on_msg(msg: Any) -> None:
                counts[member] += 1
                await msg.ack()
                if sum(counts.values()) >= 300:
                    done.set()

            return on_msg

        subs = [
            await js.subscribe("work.>", queue="workers", durable="workers", cb=handler(i))
            for i in range(3)
        ]
        for i in range(300):
            await js.publish(f"work.{i}", b"job")
        await asyncio.wait_for(done.wait(), 10)
        for sub in subs:
            await sub.unsubscribe()
    finally:
        await nc.close()
    return {"total": sum(counts.values()), "members": len(counts), "counts": dict(counts)}


def test_queue_group_push_consumer_spreads(tmp_path: Path) -> None:
    real, stub = both(tmp_path, queue_story)
    for result in (real, stub):
        assert result["total"] == 300 and result["members"] == 3
    # nats-server picks a member at random (outside 20% about 1 run in 20); the stub takes
    # turns, so its spread is checked strictly
    for count in stub["counts"].values():
        assert 80 <= count <= 120, stub  # within 20% of an even 100 each


async def settings_story(url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    try:
        await js.add_stream(name="RU", subjects=["ru.>"], allow_rollup_hdrs=True)
        for i in range(3):
            await js.publish("ru.a", b"%d" % i)
            await js.publish("ru.b", b"%d" % i)
        await js.publish("ru.a", b"rolled", headers={"Nats-Rollup": "sub"})
        state = (await js.stream_info("RU", subjects_filter=">")).state
        out["rollup_sub"] = (state.messages, state.subjects)
        await js.publish("ru.c", b"all", headers={"Nats-Rollup": "all"})
        state = (await js.stream_info("RU")).state
        out["rollup_all"] = (state.messages, state.first_seq, state.last_seq)
        out["rollup_bad"] = await outcome(
            js.publish("ru.a", b"x", headers={"Nats-Rollup": "everything"})
        )
        await js.add_stream(name="NR", subjects=["nr.>"])
        out["rollup_denied"] = await outcome(
            js.publish("nr.a", b"x", headers={"Nats-Rollup": "sub"})
        )
        await js.update_stream(name="RU", subjects=["ru.>"], sealed=True)
        cfg = (await js.stream_info("RU")).config
        out["sealed_cfg"] = (cfg.sealed, cfg.deny_delete, cfg.deny_purge, cfg.allow_rollup_hdrs)
        out["sealed_pub"] = await outcome(js.publish("ru.a", b"x"))
        out["sealed_purge"] = await outcome(js.purge_stream("RU"))
        out["sealed_delete"] = await outcome(js.delete_msg("RU", 8))
        out["unseal"] = await outcome(js.update_stream(name="RU", subjects=["ru.>"]))
        out["create_sealed"] = await outcome(
            js.add_stream(name="SE", subjects=["se.>"], sealed=True)
        )
        out["ttl_off"] = await outcome(js.publish("nr.t", b"x", headers={"Nats-TTL": "2s"}))
        await js.add_stream(name="TT", subjects=["tt.>"], allow_msg_ttl=True, max_age=60.0)
        out["ttl_cfg"] = (await js.stream_info("TT")).config.allow_msg_ttl
        await js.publish("tt.short", b"s", headers={"Nats-TTL": "1s"})
        await js.publish("tt.long", b"l", headers={"Nats-TTL": "1m"})
        await js.publish("tt.never", b"n", headers={"Nats-TTL": "never"})
        out["ttl_bad"] = await outcome(js.publish("tt.x", b"x", headers={"Nats-TTL": "500ms"}))
        await asyncio.sleep(1.8)
        state = (await js.stream_info("TT", subjects_filter=">")).state
        out["ttl_after"] = (state.messages, state.subjects)
        await js.add_stream(name="FS", subjects=["fs.>"], first_seq=100)
        out["first_seq"] = (await js.publish("fs.a", b"x")).seq
        await js.add_stream(
            name="DN", subjects=["dn.>"], discard="new", max_msgs_per_subject=1,
            discard_new_per_subject=True,
        )  # fmt: skip
        out["discard_per_subject"] = [
            await outcome(js.publish("dn.a", b"1")),
            await outcome(js.publish("dn.a", b"2")),
            await outcome(js.publish("dn.b", b"3")),
        ]
        out["discard_per_subject"] = [
            (r.seq if hasattr(r, "seq") else r) for r in out["discard_per_subject"]
        ]
        # pause: a paused pull consumer delivers nothing until resumed
        await js.add_stream(name="PZ", subjects=["pz.>"])
        await js.publish("pz.a", b"p")
        pull = await js.pull_subscribe("pz.>", durable="pz")
        until = datetime.now(timezone.utc) + timedelta(hours=1)
        reply = await nc.request(
            "$JS.API.CONSUMER.PAUSE.PZ.pz",
            json.dumps({"pause_until": until.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode(),
            timeout=10,
        )
        paused = json.loads(reply.data)
        out["pause"] = (paused["type"], paused["paused"], paused["pause_remaining"] > 0)
        info = await js.consumer_info("PZ", "pz")
        out["paused_info"] = (info.config.pause_until is not None,)
        out["paused_fetch"] = await outcome(pull.fetch(1, timeout=0.5))
        reply = await nc.request("$JS.API.CONSUMER.PAUSE.PZ.pz", b"{}", timeout=10)
        resumed = json.loads(reply.data)
        out["resume"] = (resumed["paused"], resumed["pause_until"])
        got = await pull.fetch(1, timeout=10)
        out["after_resume"] = got[0].data
        out["pause_missing"] = json.loads(
            (await nc.request("$JS.API.CONSUMER.PAUSE.PZ.nope", b"{}", timeout=10)).data
        )
    finally:
        await nc.close()
    return out


def test_rollup_sealed_ttl_and_pause(tmp_path: Path) -> None:
    real, stub = both(tmp_path, settings_story)
    assert real["rollup_sub"] == (4, {"ru.a": 1, "ru.b": 3})
    assert real["ttl_after"] == (2, {"tt.long": 1, "tt.never": 1})
    assert real["first_seq"] == 100
    assert real["paused_fetch"] == "TimeoutError"
    assert stub == real


def without_time(headers: dict[str, str] | None) -> dict[str, str]:
    return {k: v for k, v in (headers or {}).items() if k != "Nats-Time-Stamp"}


async def more_settings_story(url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    try:
        copies = await nc.subscribe("copy.>")
        await js.add_stream(
            name="RP",
            subjects=["rp.>"],
            republish=api.RePublish(src="rp.>", dest="copy.>"),
            subject_transform=api.SubjectTransform(src="rp.*", dest="rp.t.{{wildcard(1)}}"),
        )
        await js.publish("rp.a", b"one", headers={"X-App": "1"})
        await js.publish("rp.a", b"two")
        got = [await copies.next_msg(timeout=10) for _ in range(2)]
        out["republished"] = [(m.subject, m.data, without_time(m.headers)) for m in got]
        out["transformed"] = (await js.get_msg("RP", 1)).subject
        # headers_only: the size instead of the payload
        sub = await js.subscribe("rp.>", config=ConsumerConfig(headers_only=True))
        msg = await sub.next_msg(timeout=10)
        out["headers_only"] = (msg.data, msg.headers)
        await sub.unsubscribe()
        # no_ack: the publish gets no answer at all
        await js.add_stream(name="NA", subjects=["na.>"], no_ack=True)
        out["no_ack"] = await outcome(js.publish("na.a", b"x", timeout=0.5))
        out["no_ack_stored"] = (await js.stream_info("NA")).state.messages
        # consumer_limits: the stream's defaults and caps for its consumers
        limits = api.StreamConsumerLimits(inactive_threshold=60, max_ack_pending=5)
        await js.add_stream(name="CL", subjects=["cl.>"], consumer_limits=limits)
        made = await js.add_consumer("CL", ConsumerConfig(durable_name="d"))
        out["limit_defaults"] = (made.config.max_ack_pending, made.config.inactive_threshold)
        out["limit_pending"] = await outcome(
            js.add_consumer("CL", ConsumerConfig(durable_name="e", max_ack_pending=50))
        )
        eph = await js.add_consumer("CL", ConsumerConfig(ack_policy="explicit"))
        out["limit_ephemeral"] = eph.config.inactive_threshold
        # pull request limits
        limited = {"durable_name": "lim", "ack_policy": "explicit", "max_batch": 2}
        limited.update(max_expires=1_000_000_000, max_bytes=100)  # nats-py has no fields
        await nc.request(
            "$JS.API.CONSUMER.CREATE.RP.lim",
            json.dumps({"stream_name": "RP", "config": limited}).encode(),
            timeout=10,
        )
        for body in (
            {"batch": 3},
            {"batch": 1, "expires": 2_000_000_000},
            {"batch": 1, "max_bytes": 200},
            {"batch": 1, "max_bytes": 10, "expires": 500_000_000},
        ):
            reply = await nc.request(
                "$JS.API.CONSUMER.MSG.NEXT.RP.lim", json.dumps(body).encode(), timeout=10
            )
            out.setdefault("pull_limits", []).append((reply.headers, reply.data))
    finally:
        await nc.close()
    return out


def test_republish_transform_headers_only_no_ack_and_limits(tmp_path: Path) -> None:
    real, stub = both(tmp_path, more_settings_story)
    assert real["transformed"] == "rp.t.a" and real["no_ack"] == "TimeoutError"
    assert stub == real


async def update_story(url: str) -> dict[str, Any]:
    """CONSUMER.CREATE on an existing durable: what may change, what may not."""
    out: dict[str, Any] = {}
    nc = await nats.connect(url)
    keep = ("ack_wait", "description", "max_deliver", "filter_subject", "max_ack_pending")
    keep += ("headers_only", "backoff", "inactive_threshold", "metadata")

    async def create(name: str, config: dict[str, Any], action: str = "") -> Any:
        body: dict[str, Any] = {"stream_name": "U", "config": config}
        if action:
            body["action"] = action
        reply = await nc.request(
            f"$JS.API.CONSUMER.CREATE.U.{name}", json.dumps(body).encode(), timeout=10
        )
        answer = json.loads(reply.data)
        return answer.get("error") or {k: answer["config"].get(k) for k in keep}

    try:
        await nc.jetstream().add_stream(name="U", subjects=["u.>"])
        base = {"durable_name": "d", "ack_policy": "explicit"}
        out["base"] = await create("d", base)
        changes: list[dict[str, Any]] = [
            {"ack_wait": 5_000_000_000},
            {"description": "x"},
            {"deliver_policy": "new"},
            {"max_deliver": 3},
            {"filter_subject": "u.a"},
            {"max_ack_pending": 7},
            {"headers_only": True},
            {"backoff": [1_000_000_000]},
            {"inactive_threshold": 9_000_000_000},
            {"max_waiting": 9},
            {"ack_policy": "all"},
            {"deliver_subject": "x"},
            {"mem_storage": True},
            {"opt_start_seq": 5, "deliver_policy": "by_start_sequence"},
        ]
        for change in changes:
            out[json.dumps(change)] = await create("d", {**base, **change})
        out["create_existing"] = await create("d", {**base, "description": "z"}, "create")
        out["update_missing"] = await create("e", {**base, "durable_name": "e"}, "update")
    finally:
        await nc.close()
    return out


def test_consumer_updates(tmp_path: Path) -> None:
    real, stub = both(tmp_path, update_story)
    assert real['{"max_deliver": 3}']["max_deliver"] == 3
    assert real['{"ack_policy": "all"}']["description"] == "ack policy can not be updated"
    assert stub == real


async def pull_request_story(url: str) -> list[Any]:
    """Raw MSG.NEXT requests: no_wait with and without expires, plain batch numbers, junk."""
    out: list[Any] = []
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    try:
        await js.add_stream(name="PW", subjects=["pw.>"])
        for i in range(2):
            await js.publish("pw.a", b"%d" % i)
        await js.add_consumer("PW", durable_name="c", ack_policy="explicit")
        await js.add_consumer(
            "PW", durable_name="e", ack_policy="explicit", filter_subject="pw.none"
        )
        cases: list[tuple[str, Any, bool]] = [
            ("c", {"batch": 3, "no_wait": True, "expires": 500_000_000}, False),
            ("e", {"batch": 3, "no_wait": True, "expires": 2_000_000_000}, True),
            ("c", {"batch": 3, "no_wait": True}, False),
            ("c", {"batch": 1, "no_wait": True}, False),
            ("e", {"batch": 2, "no_wait": True, "expires": 300_000_000}, False),
            ("e", b"3", False),
            ("e", b"bogus", False),
            ("e", {"batch": 1, "expires": 200_000_000}, False),
        ]
        for consumer, body, publish_later in cases:
            inbox = nc.new_inbox()
            sub = await nc.subscribe(inbox)
            payload = body if isinstance(body, bytes) else json.dumps(body).encode()
            await nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.PW.{consumer}", payload, reply=inbox)
            if publish_later:
                await asyncio.sleep(0.2)
                await js.publish("pw.none", b"late")
            got: list[Any] = []
            expires = body.get("expires", 0) if isinstance(body, dict) else 0
            wait = expires / 1e9 + 0.3  # past the request's own expiry: its 408 comes first
            for _ in range(5):  # bounded; a status ends the request
                try:
                    msg = await sub.next_msg(timeout=wait)
                except nats.errors.TimeoutError:
                    break
                headers = dict(msg.headers or {})
                got.append((headers.get("Status"), headers.get("Description"), msg.data))
                if "Status" in headers:
                    break
            await sub.unsubscribe()
            out.append((consumer, body if isinstance(body, dict) else body.decode(), got))
    finally:
        await nc.close()
    return out


def test_pull_request_forms(tmp_path: Path) -> None:
    real, stub = both(tmp_path, pull_request_story)
    assert real[1][2] == [(None, None, b"late"), ("404", "No Messages", b"")]
    assert stub == real


async def ack_next_story(url: str) -> list[Any]:
    """+NXT acks and turns the ack's reply into a pull request for the next message(s)."""
    out: list[Any] = []
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    try:
        await js.add_stream(name="NX", subjects=["nx.>"])
        for i in range(4):
            await js.publish("nx.a", b"%d" % i)
        sub = await js.pull_subscribe("nx.>", durable="n")
        [msg] = await sub.fetch(1)
        for body in (b"+NXT", b"+NXT 2", b'+NXT {"batch":1}', b"+NXT {bad"):
            inbox = nc.new_inbox()
            replies = await nc.subscribe(inbox)
            await nc.publish(msg.reply, body, reply=inbox)
            got = []
            for _ in range(3):
                try:
                    reply = await replies.next_msg(timeout=0.3)
                except nats.errors.TimeoutError:
                    break
                headers = dict(reply.headers or {})
                if "Description" in headers:  # Go's and Python's JSON errors differ in words
                    headers["Description"] = headers["Description"].split(" - ")[0]
                got.append((reply.data, headers, (reply.reply or "").split(".")[4:7]))
                if reply.reply:
                    msg = reply
            await replies.unsubscribe()
            out.append((body, got))
        info = await js.consumer_info("NX", "n")
        out.append((info.num_ack_pending, info.ack_floor.stream_seq, info.delivered.stream_seq))
    finally:
        await nc.close()
    return out


def test_ack_next(tmp_path: Path) -> None:
    real, stub = both(tmp_path, ack_next_story)
    assert real[1][1][1][0] == b"3"
    assert stub == real


async def redelivery_story(url: str) -> list[Any]:
    """ack / term / max_deliver / in_progress / nak with delay, and what consumer info says."""
    out: list[Any] = []
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)

    async def info(tag: str) -> None:
        await asyncio.sleep(0.1)  # nats-server handles acks off the request path
        i = await js.consumer_info("MD", "d")
        out.append((tag, i.num_ack_pending, i.num_redelivered, i.num_pending))
        out.append((i.ack_floor.stream_seq, i.delivered.stream_seq, i.delivered.consumer_seq))

    try:
        await js.add_stream(name="MD", subjects=["md.>"])
        for i in range(3):
            await js.publish("md.a", b"%d" % i)
        config = ConsumerConfig(max_deliver=2, ack_wait=0.5)
        sub = await js.pull_subscribe("md.>", durable="d", config=config)
        first = await sub.fetch(3)
        out.append([m.metadata.num_delivered for m in first])
        await first[0].ack_sync()
        await first[1].term()
        await info("after ack and term")
        await asyncio.sleep(0.8)
        again = await sub.fetch(3, timeout=1)
        out.append([(m.data, m.metadata.num_delivered) for m in again])
        await info("after a redelivery")
        await asyncio.sleep(0.8)
        out.append(await outcome(sub.fetch(1, timeout=1)))  # max_deliver reached: nothing
        await info("past max_deliver")
        await js.publish("md.a", b"n")
        late = await sub.fetch(1, timeout=1)
        await late[0].in_progress()
        await late[0].nak(delay=0.3)
        await info("after nak with delay")
        await asyncio.sleep(0.5)
        last = await sub.fetch(1, timeout=1)
        out.append([(m.data, m.metadata.num_delivered) for m in last])
        await last[0].ack_sync()
        await info("end")
    finally:
        await nc.close()
    return out


def test_redelivery_and_max_deliver(tmp_path: Path) -> None:
    real, stub = both(tmp_path, redelivery_story)
    assert ("past max_deliver", 0, 1, 0) in real  # dropped from pending, still redelivered
    assert stub == real
