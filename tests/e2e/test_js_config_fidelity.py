"""Every stream and consumer config field nats-py can send: honoured or refused, never ignored.

The fields are taken from nats-py's own dataclasses, so a field added there fails this test
until it has a sample here. Each sample is sent (as nats-py serialises it) to nats-server and
to the stub. For the stub, a field is either refused with an API error, or accepted and then
reported back in the created config exactly as nats-server reports it. A refusal where
nats-server accepts must be a deliberate one, listed in STUB_REFUSES.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js import api

from tests.e2e.test_js_nats_py import real_url, run, stub_url

pytestmark = pytest.mark.e2e

LATER = datetime.datetime(2031, 1, 1, tzinfo=datetime.timezone.utc)

# field -> extra StreamConfig keywords (the field's sample value included)
STREAM_SAMPLES: dict[str, list[dict[str, Any]]] = {
    "name": [{}],
    "description": [{"description": "about"}],
    "subjects": [{"subjects": ["w.a", "w.b.*"]}],
    "retention": [
        {"retention": api.RetentionPolicy.WORK_QUEUE},
        {"retention": api.RetentionPolicy.INTEREST},
    ],
    "max_consumers": [{"max_consumers": 5}],
    "max_msgs": [{"max_msgs": 5}],
    "max_bytes": [{"max_bytes": 5000}],
    "discard": [{"discard": api.DiscardPolicy.NEW}],
    "discard_new_per_subject": [
        {"discard_new_per_subject": True},
        {"discard_new_per_subject": True, "discard": "new", "max_msgs_per_subject": 2},
    ],
    "max_age": [{"max_age": 10.0}],
    "max_msgs_per_subject": [{"max_msgs_per_subject": 3}],
    "max_msg_size": [{"max_msg_size": 1000}],
    "storage": [{"storage": api.StorageType.MEMORY}],
    "num_replicas": [{"num_replicas": 1}, {"num_replicas": 3}],
    "no_ack": [{"no_ack": True}],
    "template_owner": [{"template_owner": "T"}],
    "duplicate_window": [{"duplicate_window": 5.0}],
    "placement": [{"placement": api.Placement(cluster="C")}],
    "mirror": [{"mirror": api.StreamSource(name="X"), "subjects": None}],
    "sources": [{"sources": [api.StreamSource(name="X")]}],
    "sealed": [{"sealed": True}],
    "deny_delete": [{"deny_delete": True}],
    "deny_purge": [{"deny_purge": True}],
    "allow_rollup_hdrs": [{"allow_rollup_hdrs": True}],
    "first_seq": [{"first_seq": 7}],
    "republish": [
        {"republish": api.RePublish(src="w.>", dest="out.>")},
        {"republish": api.RePublish(src="w.>", dest="w.again.>")},
    ],
    "subject_transform": [
        {"subject_transform": api.SubjectTransform(src="w.*", dest="w.x.{{wildcard(1)}}")},
        {"subject_transform": api.SubjectTransform(src="w.*", dest="w.{{partition(3,1)}}")},
    ],
    "allow_direct": [{"allow_direct": True}],
    "mirror_direct": [{"mirror_direct": True}],
    "compression": [{"compression": api.StoreCompression.S2}],
    "allow_msg_ttl": [{"allow_msg_ttl": True}],
    "allow_msg_schedules": [{"allow_msg_schedules": True}],
    "allow_atomic": [{"allow_atomic": True}],
    "allow_batched": [{"allow_batched": True}],
    "allow_msg_counter": [{"allow_msg_counter": True}],
    "persist_mode": [{"persist_mode": api.PersistMode.ASYNC}],
    "metadata": [{"metadata": {"team": "a"}}],
    "consumer_limits": [
        {"consumer_limits": api.StreamConsumerLimits(inactive_threshold=60, max_ack_pending=9)}
    ],
    "subject_delete_marker_ttl": [
        {"subject_delete_marker_ttl": 2.0, "allow_msg_ttl": True},
        {"subject_delete_marker_ttl": 2.0},
        {"subject_delete_marker_ttl": 0.5, "allow_msg_ttl": True},
    ],
}

CONSUMER_SAMPLES: dict[str, list[dict[str, Any]]] = {
    "name": [{"name": "named"}],
    "durable_name": [{"durable_name": "dur"}],
    "description": [{"description": "about"}],
    "deliver_policy": [
        {"deliver_policy": api.DeliverPolicy.NEW},
        {"deliver_policy": api.DeliverPolicy.LAST},
        {"deliver_policy": api.DeliverPolicy.LAST_PER_SUBJECT},
        {"deliver_policy": api.DeliverPolicy.LAST_PER_SUBJECT, "filter_subject": "w.a"},
    ],
    "opt_start_seq": [{"deliver_policy": api.DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": 2}],
    "opt_start_time": [
        {"deliver_policy": api.DeliverPolicy.BY_START_TIME, "opt_start_time": LATER},
        {"deliver_policy": api.DeliverPolicy.BY_START_TIME},
    ],
    "ack_policy": [{"ack_policy": api.AckPolicy.ALL}, {"ack_policy": api.AckPolicy.NONE}],
    "ack_wait": [{"ack_wait": 5.0}],
    "max_deliver": [{"max_deliver": 4}],
    "backoff": [
        {"backoff": [1.0, 2.0]},
        {"backoff": [1.0, 2.0], "max_deliver": 2},
        {"backoff": [1.0, 2.0], "max_deliver": 1},
    ],
    "filter_subject": [{"filter_subject": "w.a"}],
    "filter_subjects": [{"filter_subjects": ["w.a", "w.b.*"]}],
    "replay_policy": [{"replay_policy": api.ReplayPolicy.ORIGINAL}],
    "rate_limit_bps": [{"rate_limit_bps": 1000}, {"rate_limit_bps": 1000, "deliver_subject": "d"}],
    "sample_freq": [{"sample_freq": "50%"}, {"sample_freq": "x%"}, {"sample_freq": "-1"}],
    "max_waiting": [{"max_waiting": 7}, {"max_waiting": 7, "deliver_subject": "d"}],
    "max_ack_pending": [{"max_ack_pending": 3}],
    "flow_control": [
        {"flow_control": True},
        {"flow_control": True, "deliver_subject": "d"},
        {"flow_control": True, "deliver_subject": "d", "idle_heartbeat": 1.0},
    ],
    "idle_heartbeat": [{"idle_heartbeat": 1.0}, {"idle_heartbeat": 1.0, "deliver_subject": "d"}],
    "headers_only": [{"headers_only": True}],
    "deliver_subject": [{"deliver_subject": "d"}, {"deliver_subject": "d.*"}],
    "deliver_group": [{"deliver_subject": "d", "deliver_group": "g"}],
    "inactive_threshold": [{"inactive_threshold": 30.0}],
    "num_replicas": [{"num_replicas": 1}, {"num_replicas": 3}],
    "mem_storage": [{"mem_storage": True}],
    "metadata": [{"metadata": {"team": "a"}}],
    "pause_until": [{"pause_until": "2031-01-01T00:00:00Z"}],
}

# (field, sample index): accepted by nats-server, refused by the stub on purpose
STUB_REFUSES = {
    ("stream", "placement", 0),  # one server: no placement
    ("stream", "mirror", 0),  # no mirroring
    ("stream", "sources", 0),  # no sourcing
    ("stream", "subject_transform", 1),  # only wildcard(N) mappings
    ("stream", "compression", 0),  # messages are stored uncompressed
    ("stream", "allow_msg_schedules", 0),
    ("stream", "allow_atomic", 0),
    ("stream", "allow_batched", 0),
    ("stream", "allow_msg_counter", 0),
    ("stream", "persist_mode", 0),  # every ack follows an fsync
    ("consumer", "replay_policy", 0),  # instant replay only
    ("consumer", "rate_limit_bps", 1),
}

STREAM_DEFAULTS = {"name": "W", "subjects": ["w.>"]}
# a stream that stays for a whole walk (see walk())
KEEP_STREAM = {"name": "KEEP", "subjects": ["keep.>"]}
KEEP_MIRROR = {"name": "KEEP", "mirror": {"name": "NOPE"}}


def test_every_nats_py_field_has_a_sample() -> None:
    stream_fields = {f.name for f in dataclasses.fields(api.StreamConfig)}
    consumer_fields = {f.name for f in dataclasses.fields(api.ConsumerConfig)}
    assert stream_fields == set(STREAM_SAMPLES)
    assert consumer_fields == set(CONSUMER_SAMPLES)


def _stream_body(extra: dict[str, Any]) -> dict[str, Any]:
    keywords = {**STREAM_DEFAULTS, **extra}
    return api.StreamConfig(**keywords).as_dict()


def _consumer_body(extra: dict[str, Any]) -> dict[str, Any]:
    keywords = {"durable_name": "c", **extra}
    if "name" in extra:
        keywords.pop("durable_name")
    if "durable_name" in extra and extra["durable_name"] != "c":
        keywords["durable_name"] = extra["durable_name"]
    config = api.ConsumerConfig(**keywords)
    return {"stream_name": "W", "config": config.as_dict()}


async def walk(url: str) -> dict[tuple[str, str, int], dict[str, Any]]:
    out: dict[tuple[str, str, int], dict[str, Any]] = {}
    nc = await nats.connect(url)

    async def call(subject: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = await nc.request(subject, json.dumps(body).encode(), timeout=10)
        answer: dict[str, Any] = json.loads(reply.data)
        return answer

    try:
        # nats-server's stream delete ends with a goroutine that removes the account's now-empty
        # streams directory (stream.go, stop(): "no op if not empty"); racing it, the next create's
        # mkdir fails with "error creating store for stream" (10049). A stream that stays for the
        # whole walk keeps that directory non-empty.
        await call("$JS.API.STREAM.CREATE.KEEP", KEEP_STREAM)
        for name, samples in STREAM_SAMPLES.items():
            for index, extra in enumerate(samples):
                await call("$JS.API.STREAM.DELETE.W", {})
                out[("stream", name, index)] = await call(
                    "$JS.API.STREAM.CREATE.W", _stream_body(extra)
                )
        await call("$JS.API.STREAM.DELETE.W", {})
        await call("$JS.API.STREAM.CREATE.W", _stream_body({}))
        for name, samples in CONSUMER_SAMPLES.items():
            for index, extra in enumerate(samples):
                body = _consumer_body(extra)
                consumer = body["config"].get("durable_name") or body["config"]["name"]
                await call(f"$JS.API.CONSUMER.DELETE.W.{consumer}", {})
                out[("consumer", name, index)] = await call(
                    f"$JS.API.CONSUMER.CREATE.W.{consumer}", body
                )
    finally:
        await nc.close()
    return out


def test_every_field_is_honoured_or_refused(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await walk(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await walk(url)
        return real, stub

    real, stub = run(both())
    problems: list[str] = []
    for key, theirs in real.items():
        kind, name, index = key
        ours = stub[key]
        if "error" in ours:
            if "error" not in theirs and key not in STUB_REFUSES:
                problems.append(f"{key}: stub refuses {ours['error']}, nats-server accepts")
            continue
        if "error" in theirs:
            problems.append(f"{key}: stub accepts, nats-server refuses {theirs['error']}")
            continue
        if key in STUB_REFUSES:
            problems.append(f"{key}: listed as refused but the stub accepts it")
        mine, real_config = ours["config"], theirs["config"]
        if name in real_config and mine.get(name) != real_config[name]:
            problems.append(
                f"{key}: stub reports {mine.get(name)!r}, nats-server {real_config[name]!r}"
            )
        if mine != real_config:
            problems.append(f"{key}: config differs:\n  stub {mine}\n  real {real_config}")
    for key, ours in stub.items():  # refusals must be worded as API errors
        if "error" in ours:
            assert set(ours["error"]) == {"code", "err_code", "description"}, key
    assert not problems, "\n".join(problems)


# (subject after $JS.API., raw body): request bodies nats-server decodes strictly or refuses
API_REQUESTS: list[tuple[str, bytes]] = [
    ("STREAM.CREATE.W", json.dumps({"name": "W", "subjects": ["w.>"]}).encode()),
    ("STREAM.MSG.GET.W", b'{"bogus": 1}'),
    ("STREAM.MSG.GET.W", b'{"seq": 1, "batch": 2}'),
    ("STREAM.MSG.GET.W", b'{"seq": 1, "no_hdr": true}'),
    ("STREAM.PURGE.W", b'{"bogus": 1}'),
    ("STREAM.PURGE.W", b'{"seq": 3, "keep": 1}'),
    ("STREAM.MSG.DELETE.W", b'{"bogus": 1}'),
    ("STREAM.MSG.DELETE.W", b"{}"),
    ("STREAM.MSG.DELETE.W", b'{"seq": 99}'),
    ("STREAM.MSG.DELETE.W", b'{"seq": 0}'),
    ("STREAM.MSG.DELETE.W", b'{"seq": 2}'),
    ("STREAM.MSG.DELETE.W", b'{"seq": 2, "no_erase": true}'),
    ("STREAM.NAMES", b'{"bogus": 1}'),
    ("STREAM.LIST", b'{"bogus": 1}'),
    ("STREAM.INFO.W", b'{"bogus": 1}'),
    ("CONSUMER.NAMES.W", b'{"bogus": 1}'),
    ("CONSUMER.CREATE.W.c1", b'{"stream_name": "W", "config": {"durable_name": "c1"}}'),
    ("CONSUMER.CREATE.W.c2", b'{"stream_name": "W", "config": {"durable_name": "c2"}}'),
    ("CONSUMER.NAMES.W", b'{"offset": 1}'),
    ("STREAM.NAMES", b'{"offset": 1}'),
    ("CONSUMER.LIST.W", b'{"bogus": 1}'),
    ("CONSUMER.INFO.W.none", b"{}"),
    ("CONSUMER.INFO.W.none", b'{"x": 1}'),
    ("CONSUMER.INFO.W.none", b'"{}"'),
    ("CONSUMER.DELETE.W.none", b"{}"),
    ("CONSUMER.DELETE.W.none", b'{"x": 1}'),
    ("CONSUMER.PAUSE.W.none", b'{"bogus": 1}'),
    ("CONSUMER.CREATE.W", b'{"stream_name": "W", "config": {}, "bogus": 1}'),
    ("STREAM.DELETE.W", b'{"x": 1}'),
    ("STREAM.DELETE.W", b"{}"),
    (
        "STREAM.CREATE.W",
        json.dumps({"name": "W", "subjects": ["w.>"], "storage": "memory"}).encode(),
    ),
    ("STREAM.MSG.DELETE.W", b'{"seq": 99}'),
    ("STREAM.MSG.DELETE.W", b'{"seq": 2}'),
    ("STREAM.MSG.DELETE.W", b'{"seq": 2}'),
    ("STREAM.MSG.DELETE.W", b'{"seq": 0}'),
]


async def api_walk(url: str) -> list[Any]:
    out: list[Any] = []
    nc = await nats.connect(url)
    try:
        for subject, body in API_REQUESTS:
            reply = json.loads((await nc.request("$JS.API." + subject, body, timeout=10)).data)
            for key in ("created", "ts", "config", "state", "cluster", "time", "delivered"):
                reply.pop(key, None)
            reply.pop("ack_floor", None)
            if "message" in reply:
                reply["message"].pop("time", None)
            out.append((subject, body, reply))
            if subject == "STREAM.CREATE.W":
                for i in range(3):
                    await nc.request(f"w.{i}", b"m", headers={"X-A": "1"}, timeout=10)
    finally:
        await nc.close()
    return out


def test_api_request_bodies_are_read_as_nats_server_reads_them(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await api_walk(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await api_walk(url)
        return real, stub

    real, stub = run(both())
    assert real[1][2]["error"]["err_code"] == 10025
    for theirs, ours in zip(real, stub, strict=True):
        assert ours == theirs


STREAM_UPDATES: list[dict[str, Any]] = [
    {"max_consumers": 6},
    {"storage": "memory"},
    {"first_seq": 4},
    {"allow_msg_ttl": False},
    {"subjects": ["other"]},
    {"deny_delete": False},
    {"allow_rollup_hdrs": True},
    {"max_msgs": 3, "discard": "new"},
    {"subject_delete_marker_ttl": 1_000_000_000},
    {"duplicate_window": 5_000_000_000},
    {"num_replicas": 3},
    {"name": "XX"},
    {"max_age": 1_000_000_000},
    {"sealed": True},
]


async def update_walk(url: str) -> list[Any]:
    out: list[Any] = []
    nc = await nats.connect(url)
    base = {"name": "SU", "subjects": ["su.>"], "max_consumers": 5, "allow_msg_ttl": True}
    base.update(deny_delete=True, first_seq=3)

    async def call(subject: str, body: dict[str, Any]) -> Any:
        answer = json.loads((await nc.request(subject, json.dumps(body).encode(), timeout=10)).data)
        return answer.get("error") or answer["config"]

    try:
        await call("$JS.API.STREAM.CREATE.KEEP", KEEP_STREAM)  # see walk(): 10049 otherwise
        for change in STREAM_UPDATES:
            await nc.request("$JS.API.STREAM.DELETE.SU", b"", timeout=10)
            await call("$JS.API.STREAM.CREATE.SU", base)
            out.append((change, await call("$JS.API.STREAM.UPDATE.SU", {**base, **change})))
    finally:
        await nc.close()
    return out


def test_stream_updates_follow_nats_server_rules(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await update_walk(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await update_walk(url)
        return real, stub

    real, stub = run(both())
    assert real[1][1]["err_code"] == 10052  # storage can not change
    for theirs, ours in zip(real, stub, strict=True):
        assert ours == theirs


# consumer configs nats-server checks beyond one field at a time
CONSUMER_RULES: list[dict[str, Any]] = [
    {"durable_name": "a", "filter_subject": "zz.>"},
    {"durable_name": "a", "filter_subjects": ["w.a", "w.*"]},
    {"durable_name": "a", "filter_subject": "w.a", "filter_subjects": ["w.b"]},
    {"durable_name": "a", "filter_subjects": ["w.a", "w.a"]},
    {"durable_name": "a.b"},
    {"name": "n1", "durable_name": "n2"},
    {"durable_name": "a", "deliver_subject": "w.x"},
    {"durable_name": "a", "max_ack_pending": -1},
    {"durable_name": "a", "max_deliver": 0},
    {"durable_name": "a", "max_deliver": -5},
    {"durable_name": "a", "ack_wait": -1},
    {"durable_name": "a", "deliver_policy": "all", "opt_start_seq": 5},
    {"durable_name": "a", "deliver_policy": "new", "opt_start_time": "2030-01-01T00:00:00Z"},
    {"durable_name": "a", "deliver_policy": "by_start_sequence"},
    {"durable_name": "a", "ack_policy": "none", "max_ack_pending": 5},
    {"durable_name": "a", "description": "x" * 5000},
    {"durable_name": "a", "inactive_threshold": -1},
    {"durable_name": "a", "deliver_group": "g"},
    {"durable_name": "a", "filter_subject": "w.*.>"},
    {"durable_name": "a", "filter_subject": "bad..subject"},
    {"durable_name": "a", "max_waiting": -1},
    {"durable_name": "a", "idle_heartbeat": 50_000_000, "deliver_subject": "dx"},
    {"durable_name": "a", "ack_policy": "bogus"},
    {"durable_name": "a", "deliver_policy": "bogus"},
    {"durable_name": "a", "replay_policy": "bogus"},
    {"durable_name": "a", "ack_policy": 5},
]


async def rules_walk(url: str) -> list[Any]:
    out: list[Any] = []
    nc = await nats.connect(url)
    keep = ("name", "filter_subject", "filter_subjects", "max_ack_pending", "max_deliver")
    keep += ("ack_wait", "deliver_subject", "inactive_threshold", "opt_start_seq")
    try:
        await nc.request("$JS.API.STREAM.CREATE.W", b'{"name":"W","subjects":["w.>"]}')
        for config in CONSUMER_RULES:
            name = config.get("durable_name") or config.get("name")
            subject = "$JS.API.CONSUMER.CREATE.W"
            if "." not in name:
                subject += f".{name}"
                await nc.request(f"$JS.API.CONSUMER.DELETE.W.{name}", b"", timeout=10)
            body = json.dumps({"stream_name": "W", "config": config}).encode()
            answer = json.loads((await nc.request(subject, body, timeout=10)).data)
            result = answer.get("error") or {k: answer["config"].get(k) for k in keep}
            out.append((config, result))
    finally:
        await nc.close()
    return out


def test_consumer_rules_as_nats_server(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await rules_walk(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await rules_walk(url)
        return real, stub

    real, stub = run(both())
    assert real[1][1]["err_code"] == 10138
    for theirs, ours in zip(real, stub, strict=True):
        assert ours == theirs


STREAM_RULES: list[dict[str, Any]] = [
    {"subjects": ["w.a", "w.*"]},
    {"subjects": ["w.a", "w.a"]},
    {"subjects": []},
    {"subjects": ["bad..x"]},
    {"subjects": ["$JS.API.>"]},
    {"subjects": ["$JS.ACK.x"]},
    {"subjects": [">"]},
    {"subjects": ["_INBOX.>"]},
    {"description": "x" * 5000},
    {"max_age": -1},
    {"max_age": 50_000_000},
    {"max_msgs": -5},
    {"max_bytes": -2},
    {"duplicate_window": -1},
    {"max_msgs_per_subject": -3},
    {"max_consumers": -4},
    {"name": "N" * 300, "subjects": ["w.long"]},
    {"storage": "bogus"},
    {"discard": "bogus"},
    {"retention": "bogus"},
    {"storage": 5},
    {"first_seq": -1},
]


async def stream_rules_walk(url: str) -> list[Any]:
    out: list[Any] = []
    nc = await nats.connect(url)
    keep = ("subjects", "max_age", "max_msgs", "max_bytes", "duplicate_window")
    keep += ("max_msgs_per_subject", "max_consumers", "max_msg_size", "first_seq")
    try:
        # see walk(); a mirror has no subjects, so it overlaps none of the rules' subjects (">").
        # The stub refuses mirrors, and needs none: it removes no directory behind a create.
        await nc.request("$JS.API.STREAM.CREATE.KEEP", json.dumps(KEEP_MIRROR).encode())
        for config in STREAM_RULES:
            body = {"name": "W", "subjects": ["w.>"], **config}
            name = body["name"]
            await nc.request(f"$JS.API.STREAM.DELETE.{name}", b"", timeout=10)
            reply = await nc.request(
                f"$JS.API.STREAM.CREATE.{name}", json.dumps(body).encode(), timeout=10
            )
            answer = json.loads(reply.data)
            result = answer.get("error") or {k: answer["config"].get(k) for k in keep}
            out.append((config, result))
    finally:
        await nc.close()
    return out


def test_stream_rules_as_nats_server(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await stream_rules_walk(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await stream_rules_walk(url)
        return real, stub

    real, stub = run(both())
    assert real[0][1]["description"] == 'subject "w.a" overlaps with "w.*"'
    for theirs, ours in zip(real, stub, strict=True):
        assert ours == theirs


PUBLISH_HEADERS: list[dict[str, str]] = [
    {"Nats-Incr": "1"},
    {"Nats-Batch-Id": "b1", "Nats-Batch-Sequence": "1"},
    {"Nats-Schedule": "@every 1s"},
    {
        "Nats-Expected-Last-Subject-Sequence": "1",
        "Nats-Expected-Last-Subject-Sequence-Subject": "w.a",
    },
    {
        "Nats-Expected-Last-Subject-Sequence": "1",
        "Nats-Expected-Last-Subject-Sequence-Subject": "w.*",
    },
    {
        "Nats-Expected-Last-Subject-Sequence": "5",
        "Nats-Expected-Last-Subject-Sequence-Subject": "w.a",
    },
    {"Nats-Expected-Last-Sequence": "x"},
    {"Nats-Expected-Stream": "OTHER"},
    {"Nats-Expected-Last-Msg-Id": "none"},
]


async def headers_walk(url: str) -> list[Any]:
    out: list[Any] = []
    nc = await nats.connect(url)
    try:
        await nc.request("$JS.API.STREAM.CREATE.W", b'{"name":"W","subjects":["w.>"]}')
        await nc.request("w.a", b"1", timeout=10)
        for headers in PUBLISH_HEADERS:
            reply = await nc.request("w.b", b"x", headers=headers, timeout=10)
            out.append((headers, json.loads(reply.data)))
    finally:
        await nc.close()
    return out


def test_publish_headers_as_nats_server(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await headers_walk(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await headers_walk(url)
        return real, stub

    real, stub = run(both())
    assert real[0][1]["error"]["err_code"] == 10168
    for theirs, ours in zip(real, stub, strict=True):
        assert ours == theirs


PURGES: list[dict[str, Any]] = [
    {},
    {"keep": 2},
    {"seq": 4},
    {"filter": "pg.a"},
    {"filter": "pg.*", "keep": 1},
    {"filter": "pg.a", "seq": 5},
    {"filter": "zz"},
    {"seq": 100},
    {"filter": "pg.>", "keep": 100},
]


async def purge_walk(url: str) -> list[Any]:
    out: list[Any] = []
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    try:
        for index, body in enumerate(PURGES):
            name = f"PG{index}"
            await js.add_stream(name=name, subjects=[f"pg{index}.>"])
            for i in range(8):
                await js.publish(f"pg{index}.{'ab'[i % 2]}", b"%d" % i)
            if "filter" in body:
                body = {**body, "filter": body["filter"].replace("pg.", f"pg{index}.")}
            reply = await nc.request(
                f"$JS.API.STREAM.PURGE.{name}", json.dumps(body).encode(), timeout=10
            )
            s = (await js.stream_info(name, subjects_filter=">")).state
            out.append((body, json.loads(reply.data), s.messages, s.first_seq, s.last_seq))
            out.append((s.subjects, s.num_deleted))
    finally:
        await nc.close()
    return out


def test_purge_forms_as_nats_server(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await purge_walk(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await purge_walk(url)
        return real, stub

    real, stub = run(both())
    assert real[14][3:] == (100, 99)  # a purge up to a later seq moves the sequence on
    for theirs, ours in zip(real, stub, strict=True):
        assert ours == theirs
