"""JetStream advisories (`$JS.EVENT.>`) through nats-py, differential: nats-server and the stub.

The same story runs on both servers with a subscriber on the advisory subjects; the events
must be equal byte for byte once the fields that must differ are normalised: `id` (a fresh
NUID) and `timestamp` (the time of the event), each checked for its shape first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig

from tests.e2e.test_js_nats_py import real_url, run, stub_url

pytestmark = pytest.mark.e2e

_NUID = re.compile(r"[0-9A-Za-z]{22}")
# Go's RFC 3339 with nanoseconds, trailing zeros trimmed, always UTC
_GO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{0,8}[1-9])?Z")


Story = Callable[[str], Awaitable[list[tuple[str, str]]]]


def both(tmp_path: Path, story: Story, domain: str = "") -> tuple[Any, Any]:
    async def go() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real", **({"domain": domain} if domain else {})) as url:
            real = await story(url)
        async with stub_url(tmp_path / "stub", **({"domain": domain} if domain else {})) as url:
            stub = await story(url)
        return real, stub

    return run(go())


def both_complete(
    tmp_path: Path, story: Story, complete: Callable[[Any], bool], domain: str = ""
) -> tuple[Any, Any]:
    """both(), run again (up to three times) while nats-server's own events are incomplete.

    nats-server queues a stream's DELETED advisory on the stream's send queue, which stops
    with the stream (stream.go sendDeleteAdvisoryLocked): on a loaded machine the event is
    sometimes never sent. The stub is then compared with a run where nats-server sent it all.
    """
    for attempt in range(3):
        run_dir = tmp_path / f"run{attempt}"
        run_dir.mkdir()
        real, stub = both(run_dir, story, domain)
        if complete(real):
            break
    return real, stub


def normalised(raw: str, before: datetime, after: datetime) -> str:
    """The event with `id` and `timestamp` replaced, after checking their shape and value.

    Parsed and re-dumped with key order kept, so the comparison still sees Go's field order.
    """
    event = json.loads(raw)
    assert _NUID.fullmatch(event["id"]), event["id"]
    stamp = event["timestamp"]
    assert _GO_TIME.fullmatch(stamp), stamp
    when = datetime.fromisoformat(stamp.rstrip("Z")[:26]).replace(tzinfo=timezone.utc)
    assert before <= when <= after, (before, when, after)
    event["id"] = "ID"
    event["timestamp"] = "TS"
    return json.dumps(event)


async def watch(nc: nats.NATS, subject: str) -> tuple[list[tuple[str, str]], Callable[[], Any]]:
    seen: list[tuple[str, str]] = []
    sub = await nc.subscribe(subject, cb=seen_too(seen))
    return seen, sub.unsubscribe


def seen_too(seen: list[tuple[str, str]]) -> Callable[[Msg], Awaitable[None]]:
    async def on_event(msg: Msg) -> None:
        seen.append((msg.subject, msg.data.decode()))

    return on_event


async def settle(seen: list[Any], count: int) -> None:
    """Wait until `count` events arrived (nats-server sends them from a queue, after the
    API answer), then a little longer: an extra event must show up in the comparison."""
    for _ in range(200):
        if len(seen) >= count:
            break
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)


def events(seen: list[tuple[str, str]], start: datetime) -> list[tuple[str, str]]:
    end = datetime.now(timezone.utc) + timedelta(seconds=1)
    start -= timedelta(seconds=1)
    return [(subject, normalised(raw, start, end)) for subject, raw in seen]


async def actions_story(url: str) -> list[tuple[str, str]]:
    start = datetime.now(timezone.utc)
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    seen, _ = await watch(nc, "$JS.EVENT.ADVISORY.*.*.>")
    try:
        await js.add_stream(name="ORDERS", subjects=["orders.>"])
        await settle(seen, 1)
        await js.add_stream(name="ORDERS", subjects=["orders.>"])  # the same again: no event
        with contextlib.suppress(nats.js.errors.APIError):  # refused: no event
            await js.add_stream(name="OTHER", subjects=["orders.x"])
        await js.update_stream(name="ORDERS", subjects=["orders.>", "more"])
        await settle(seen, 2)
        durable = ConsumerConfig(durable_name="DUR", ack_policy="explicit")
        await js.add_consumer("ORDERS", durable)
        await settle(seen, 3)
        await js.add_consumer("ORDERS", durable)  # the same again: no event
        durable.description = "changed"
        await js.add_consumer("ORDERS", durable)  # an update: no event either
        await js.add_consumer("ORDERS", ConsumerConfig(name="EPH", ack_policy="none"))
        await settle(seen, 4)
        await js.delete_consumer("ORDERS", "EPH")
        await settle(seen, 5)
        # a stream deleted with a consumer left: the consumer's event, then the stream's
        await js.delete_stream("ORDERS")
        await settle(seen, 7)
        # an ephemeral consumer left unused goes after its inactive threshold
        await js.add_stream(name="IDLE", subjects=["idle"])
        await js.add_consumer("IDLE", ConsumerConfig(name="GONE", inactive_threshold=0.3))
        await settle(seen, 10)
    finally:
        await nc.close()
    return events(seen, start)


def test_stream_and_consumer_actions_as_nats_server(tmp_path: Path) -> None:
    real, stub = both_complete(
        tmp_path, actions_story, lambda real: [s for s, _ in real] == ACTIONS
    )
    assert [subject for subject, _ in real] == ACTIONS
    assert stub == real


ACTIONS = [
    "$JS.EVENT.ADVISORY.STREAM.CREATED.ORDERS",
    "$JS.EVENT.ADVISORY.STREAM.UPDATED.ORDERS",
    "$JS.EVENT.ADVISORY.CONSUMER.CREATED.ORDERS.DUR",
    "$JS.EVENT.ADVISORY.CONSUMER.CREATED.ORDERS.EPH",
    "$JS.EVENT.ADVISORY.CONSUMER.DELETED.ORDERS.EPH",
    "$JS.EVENT.ADVISORY.CONSUMER.DELETED.ORDERS.DUR",
    "$JS.EVENT.ADVISORY.STREAM.DELETED.ORDERS",
    "$JS.EVENT.ADVISORY.STREAM.CREATED.IDLE",
    "$JS.EVENT.ADVISORY.CONSUMER.CREATED.IDLE.GONE",
    "$JS.EVENT.ADVISORY.CONSUMER.DELETED.IDLE.GONE",
]


def test_domain_named_in_every_event(tmp_path: Path) -> None:
    async def story(url: str) -> list[tuple[str, str]]:
        start = datetime.now(timezone.utc)
        nc = await nats.connect(url)
        js = nc.jetstream(timeout=10)
        seen, _ = await watch(nc, "$JS.EVENT.>")
        try:
            await js.add_stream(name="D", subjects=["d"])
            await js.add_consumer("D", ConsumerConfig(durable_name="C"))
            await js.delete_stream("D")
            await settle(seen, 7)  # three API audits, four actions
        finally:
            await nc.close()
        return [e for e in events(seen, start) if ".API" not in e[0]]

    real, stub = both_complete(tmp_path, story, lambda real: len(real) == 4, domain="hub")
    assert len(real) == 4  # created, consumer created, consumer deleted, deleted
    assert all(json.loads(body)["domain"] == "hub" for _, body in real)
    assert stub == real


_TIME_IN_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
# what differs by nature between two servers and two connections: who and when
_IDENTITY = ("server",)
_CLIENT_IDENTITY = ("start", "id", "rtt", "server")

_REQUESTS: list[tuple[str, bytes]] = [
    ("$JS.API.INFO", b""),
    ("$JS.API.STREAM.CREATE.A", b'{"name":"A","subjects":["a.>"]}'),
    ("$JS.API.STREAM.INFO.NOPE", b""),
    ("$JS.API.STREAM.NAMES", b'{"offset":0}'),
    ("$JS.API.CONSUMER.CREATE.A.C", b'{"stream_name":"A","config":{"name":"C"}}'),
    ("$JS.API.STREAM.MSG.GET.A", b'{"seq":1}'),
    ("$JS.API.STREAM.CREATE.B", b'{"name":"B","subjects":["a.x"]}'),  # refused: overlaps
    ("$JS.API.STREAM.UPDATE.A", b'{"name":"A","subjects":["a.>"],"storage":"memory"}'),
    ("$JS.API.STREAM.DELETE.A", b""),
]


def test_api_audit_as_nats_server(tmp_path: Path) -> None:
    """Every `$JS.API` answer is audited on `$JS.EVENT.ADVISORY.API` with the requesting
    client's info, the request and the exact answer the client got."""

    async def story(url: str) -> list[dict[str, Any]]:
        start = datetime.now(timezone.utc)
        nc = await nats.connect(url, name="auditor")
        seen, _ = await watch(nc, "$JS.EVENT.ADVISORY.API")
        audits: list[dict[str, Any]] = []
        try:
            for subject, body in _REQUESTS:
                reply = await nc.request(subject, body, timeout=10)
                await settle(seen, len(audits) + 1)
                assert len(seen) == len(audits) + 1, subject
                audit = json.loads(normalised(seen[-1][1], start, datetime.now(timezone.utc)))
                # the answer the client got, byte for byte, and the request as sent
                assert audit["response"] == reply.data.decode(), subject
                assert audit.get("request", "") == body.decode(errors="replace"), subject
                assert audit["subject"] == subject
                audits.append(audit)
        finally:
            await nc.close()
        return audits

    def comparable(audit: dict[str, Any]) -> str:
        for key in _IDENTITY:
            audit[key] = key
        client = audit["client"]
        for key in _CLIENT_IDENTITY:
            client.pop(key, None)  # rtt: the stub measures it at its first keep-alive ping
        audit["response"] = _TIME_IN_TEXT.sub("TIME", audit["response"])
        return json.dumps(audit)

    real, stub = both(tmp_path, story)
    assert real[0]["client"]["name"] == "auditor"
    assert [comparable(a) for a in stub] == [comparable(a) for a in real]


def test_a_request_without_a_reply_is_carried_out_and_audited(tmp_path: Path) -> None:
    """nats-server runs a `$JS.API` request published without a reply and audits it, answering
    no one (sendAPIResponse); the stub used to drop it, so a stream deleted that way stayed."""

    async def story(url: str) -> tuple[list[str], list[str], int]:
        start = datetime.now(timezone.utc)
        nc = await nats.connect(url)
        js = nc.jetstream(timeout=10)
        seen, _ = await watch(nc, "$JS.EVENT.ADVISORY.>")
        try:
            await nc.publish("$JS.API.STREAM.CREATE.QUIET", b'{"name":"QUIET","subjects":["q"]}')
            await nc.flush()
            await settle(seen, 2)  # the stream's CREATED and the audit
            names_after_create = await js.streams_info()
            await nc.publish("$JS.API.STREAM.DELETE.QUIET", b"")
            await nc.flush()
            await settle(seen, 5)  # + the audit of the listing, DELETED and its audit
            names_after_delete = await js.streams_info()
            total = (await js.account_info()).api.total
        finally:
            await nc.close()
        # sorted: nats-server sends the stream's events and the audits from two queues, in
        # either order
        subjects = sorted(subject for subject, _ in events(seen, start))
        names = [info.config.name for info in names_after_create + names_after_delete]
        return subjects, names, total

    deleted = "$JS.EVENT.ADVISORY.STREAM.DELETED.QUIET"
    real, stub = both_complete(tmp_path, story, lambda real: deleted in real[0])
    assert real[1] == ["QUIET"]  # created, then gone
    assert deleted in real[0]
    assert stub == real


async def ack_story(url: str) -> list[tuple[str, str]]:
    start = datetime.now(timezone.utc)
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    seen, _ = await watch(nc, "$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.>")
    await nc.subscribe("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.>", cb=seen_too(seen))
    try:
        await js.add_stream(name="Q", subjects=["q.>"])
        for i in range(3):
            await js.publish(f"q.{i}", b"%d" % i)
        pull = await js.pull_subscribe("q.>", durable="W", config=ConsumerConfig(ack_wait=30))
        first, second, third = await pull.fetch(3, timeout=10)
        await first.ack_sync()
        await second.nak()
        await nc.publish(third.reply, b"+TERM   cannot parse it ")
        await settle(seen, 2)
        # the first is acked: a nak says nothing, a term is still reported
        await nc.publish(first.reply, b"-NAK")
        await nc.publish(first.reply, b"+TERM")
        await settle(seen, 3)
        (again,) = await pull.fetch(1, timeout=10)
        await again.nak(delay=20)  # reported with its second delivery
        await settle(seen, 4)
    finally:
        await nc.close()
    return events(seen, start)


def test_nak_and_term_as_nats_server(tmp_path: Path) -> None:
    real, stub = both(tmp_path, ack_story)
    assert [(s, json.loads(b)["consumer_seq"], json.loads(b)["deliveries"]) for s, b in real] == [
        ("$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.Q.W", 2, 1),
        ("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.Q.W", 3, 1),
        ("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.Q.W", 1, 1),
        ("$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.Q.W", 4, 2),
    ]
    assert json.loads(real[1][1])["reason"] == "cannot parse it"
    assert stub == real


async def max_deliver_story(url: str) -> tuple[list[tuple[str, str]], list[Any]]:
    start = datetime.now(timezone.utc)
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    seen, _ = await watch(nc, "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>")
    counts: list[Any] = []
    try:
        await js.add_stream(name="M", subjects=["m.>"])
        await js.publish("m.nak", b"n")
        await js.publish("m.late", b"l")
        limited = ConsumerConfig(ack_policy="explicit", max_deliver=2)
        naked = ConsumerConfig(durable_name="N", filter_subject="m.nak", ack_wait=30)
        late = ConsumerConfig(durable_name="L", filter_subject="m.late", ack_wait=0.4)
        for config in (naked, late):
            config.ack_policy, config.max_deliver = limited.ack_policy, limited.max_deliver
            await js.add_consumer("M", config)
        # naked twice: dropped, and reported, when the next pull looks for a message
        pull = await js.pull_subscribe_bind("N", "M")
        for _ in range(2):
            (msg,) = await pull.fetch(1, timeout=10)
            await msg.nak()
        with contextlib.suppress(nats.errors.TimeoutError):
            await pull.fetch(1, timeout=0.5)
        await settle(seen, 1)
        # left unacknowledged twice: the same once its ack wait ran out
        pull = await js.pull_subscribe_bind("L", "M")
        for _ in range(2):
            (msg,) = await pull.fetch(1, timeout=10)
            counts.append(msg.metadata.num_delivered)
            await asyncio.sleep(0.6)
        with contextlib.suppress(nats.errors.TimeoutError):
            await pull.fetch(1, timeout=0.5)
        await settle(seen, 2)
        for name in ("N", "L"):
            info = await js.consumer_info("M", name)
            counts.append((name, info.num_ack_pending, info.num_redelivered, info.num_pending))
    finally:
        await nc.close()
    return events(seen, start), counts


def test_max_deliveries_as_nats_server(tmp_path: Path) -> None:
    real, stub = both(tmp_path, max_deliver_story)  # type: ignore[arg-type]
    assert [(s, json.loads(b)["stream_seq"], json.loads(b)["deliveries"]) for s, b in real[0]] == [
        ("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.M.N", 1, 2),
        ("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.M.L", 2, 2),
    ]
    assert real[1] == [1, 2, ("N", 0, 1, 0), ("L", 0, 1, 0)]
    assert stub == real


async def sampling_story(url: str) -> list[tuple[str, str]]:
    start = datetime.now(timezone.utc)
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    seen, _ = await watch(nc, "$JS.EVENT.METRIC.CONSUMER.ACK.>")
    try:
        await js.add_stream(name="T", subjects=["t.>"])
        for i in range(4):
            await js.publish(f"t.{i}", b"%d" % i)
        every = ConsumerConfig(durable_name="ALL", sample_freq="100%", filter_subject="t.>")
        await js.add_consumer("T", every)
        await js.add_consumer("T", ConsumerConfig(durable_name="NONE", sample_freq="0%"))
        await js.add_consumer("T", ConsumerConfig(durable_name="UNSET"))
        cumulative = ConsumerConfig(durable_name="CUM", ack_policy="all", sample_freq="100")
        await js.add_consumer("T", cumulative)  # only explicit acks are sampled
        for durable in ("ALL", "NONE", "UNSET", "CUM"):
            pull = await js.pull_subscribe_bind(durable, "T")
            first, second, third, fourth = await pull.fetch(4, timeout=10)
            await first.ack_sync()
            if durable == "CUM":
                await fourth.ack_sync()  # acks the ones before it too: nothing comes again
                continue
            await second.nak()  # not an ack: no metric
            await third.term()  # nor is this
            await fourth.ack_sync()
            (again,) = await pull.fetch(1, timeout=10)
            await asyncio.sleep(0.05)
            await again.ack_sync()  # the naked one, acked on its second delivery
        await settle(seen, 3)
    finally:
        await nc.close()
    out = []
    for subject, body in events(seen, start):
        event = json.loads(body)
        assert 0 < event["ack_time"] < 10_000_000_000, event  # ns from delivery to ack
        event["ack_time"] = "ACK_TIME"
        out.append((subject, json.dumps(event)))
    return out


def test_ack_sampling_metric_as_nats_server(tmp_path: Path) -> None:
    real, stub = both(tmp_path, sampling_story)
    assert [(s, json.loads(b)["stream_seq"], json.loads(b)["deliveries"]) for s, b in real] == [
        ("$JS.EVENT.METRIC.CONSUMER.ACK.T.ALL", 1, 1),
        ("$JS.EVENT.METRIC.CONSUMER.ACK.T.ALL", 4, 1),
        ("$JS.EVENT.METRIC.CONSUMER.ACK.T.ALL", 2, 2),
    ]
    assert stub == real


async def pause_story(url: str) -> list[tuple[str, str]]:
    start = datetime.now(timezone.utc)
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    seen, _ = await watch(nc, "$JS.EVENT.ADVISORY.CONSUMER.PAUSE.>")
    soon, later, past = (start + timedelta(seconds=s) for s in (0.6, 30, -30))
    names: dict[Any, str] = {"0001-01-01T00:00:00Z": "ZERO"}
    try:
        await js.add_stream(name="P", subjects=["p"])
        await js.add_consumer("P", ConsumerConfig(durable_name="C"))

        async def pause(label: str, until: datetime | None) -> None:
            body = {}
            if until is not None:
                body["pause_until"] = until.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                names[until] = label
            await nc.request("$JS.API.CONSUMER.PAUSE.P.C", json.dumps(body).encode(), timeout=10)

        await pause("SOON", soon)
        await pause("SOON", soon)  # the same again: no event
        await settle(seen, 2)  # ... and one when the pause runs out
        await pause("LATER", later)
        await pause("RESUMED", None)
        await pause("PAST", past)
        await settle(seen, 5)
    finally:
        await nc.close()
    out = []
    for subject, body in events(seen, start):
        event = json.loads(body)
        stamp = event["pause_until"]
        if stamp in names:
            event["pause_until"] = names[stamp]
        else:  # Go trims the fraction's trailing zeros: compare as times
            whole, _, fraction = stamp.rstrip("Z").partition(".")
            when = datetime.fromisoformat(f"{whole}.{(fraction + '000000')[:6]}")
            event["pause_until"] = names.get(when.replace(tzinfo=timezone.utc), stamp)
        out.append((subject, json.dumps(event)))
    return out


def test_consumer_pause_as_nats_server(tmp_path: Path) -> None:
    real, stub = both(tmp_path, pause_story)
    assert [(json.loads(b)["paused"], json.loads(b)["pause_until"]) for _, b in real] == [
        (True, "SOON"),
        (False, "SOON"),
        (True, "LATER"),
        (False, "ZERO"),
        (False, "PAST"),
    ]
    assert stub == real


def test_api_audit_names_the_operator_mode_user_as_nats_server(tmp_path: Path) -> None:
    """In operator mode the audit's client is the account and user public keys, the user
    JWT's name and tags, and the signing key that issued the user JWT."""
    from tests.e2e.test_js_operator import both as both_at_once
    from tests.e2e.test_js_operator import connect, js_limits, pair
    from tests.server_stub.chain import Chain

    chain = Chain.create(tmp_path, "JS", "PLAIN")
    chain.edits["JS"] = [js_limits]

    def tagged(claims: Any) -> None:
        claims.tags = ["team:blue", "tier:1"]

    alice = chain.user("JS", tagged, signer=chain.signers["JS"], name="alice")
    bob = chain.user("JS", name="bob")  # signed by the account key itself: no issuer_key
    carol = chain.user("PLAIN", name="carol")  # an account without JetStream

    async def story(url: str) -> list[dict[str, Any]]:
        audits: list[dict[str, Any]] = []
        for creds in (alice, bob, carol):
            nc = await connect(url, creds)
            seen, _ = await watch(nc, "$JS.EVENT.ADVISORY.API")
            try:
                await nc.request("$JS.API.STREAM.NAMES", b"", timeout=10)
                await settle(seen, 1)
            finally:
                await nc.close()
            (audit,) = [json.loads(body) for _, body in seen]
            for key in ("id", "timestamp", "server"):
                audit.pop(key)
            for key in _CLIENT_IDENTITY:
                audit["client"].pop(key, None)
            audits.append(audit)
        return audits

    alice_audit, bob_audit, carol_audit = both_at_once(pair(chain, "audit"), story)
    assert "JetStream not enabled for account" in carol_audit["response"]
    assert alice_audit["client"]["acc"] == chain.pub("JS")
    assert alice_audit["client"]["user"] == alice.kp.public_key
    assert alice_audit["client"]["issuer_key"] == chain.signers["JS"].public_key
    assert alice_audit["client"]["name_tag"] == "alice"
    assert alice_audit["client"]["tags"] == ["team:blue", "tier:1"]
    # signed by the account's own key: nats-server names the account as the issuer
    assert bob_audit["client"]["issuer_key"] == chain.pub("JS")
    assert "tags" not in bob_audit["client"]
