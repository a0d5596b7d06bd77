"""Flow control, heartbeats, pause, rollup, TTL and transforms through the engine (no sockets)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server_stub.jetstream.transform import SubjectTransform, TransformError
from server_stub.jetstream.wire import go_duration, go_time, parse_duration, parse_go_time

from .conftest import ACCOUNT

API = "$JS.API."
DELIVER = "_INBOX.push"


def stream(bus, **config):
    body = {"name": "S", "subjects": ["s.>"], **config}
    return bus.request(ACCOUNT, f"{API}STREAM.CREATE.S", body)


def consumer(bus, name="c", **config):
    body = {"stream_name": "S", "config": {"durable_name": name, **config}}
    return bus.request(ACCOUNT, f"{API}CONSUMER.CREATE.S.{name}", body)


def test_flow_control_stalls_until_the_subscriber_answers(make_js) -> None:
    js, bus = make_js()
    stream(bus)
    for i in range(40):
        bus.request(ACCOUNT, f"s.{i}", b"x" * 100_000)  # 4 MB: past the first 2 MB window
    info = consumer(bus, deliver_subject=DELIVER, flow_control=True, idle_heartbeat=1_000_000_000)
    assert info["config"]["flow_control"] is True
    js.tick()
    sent = bus.take(DELIVER)
    requests = [m for m in sent if (m.headers or {}).get("Description") == "FlowControl Request"]
    data = [m for m in sent if m.payload]
    assert len(requests) == 1 and requests[0].reply.startswith("$JS.FC.S.c.")
    assert 10 <= len(data) < 40  # stalled past the window until the reply comes
    js.tick()
    assert bus.take(DELIVER) == []  # still stalled
    bus.publish(ACCOUNT, "$JS.FC.S.c.nope", b"")  # not the outstanding request: ignored
    assert bus.take(DELIVER) == []
    bus.publish(ACCOUNT, requests[0].reply, b"")
    more = [m for m in bus.take(DELIVER) if m.payload]
    assert more and len(data) + len(more) <= 40


def test_heartbeat_names_the_stalled_flow_control_reply(make_js, clock) -> None:
    js, bus = make_js()
    stream(bus)
    for i in range(30):
        bus.request(ACCOUNT, f"s.{i}", b"x" * 100_000)
    consumer(bus, deliver_subject=DELIVER, flow_control=True, idle_heartbeat=200_000_000)
    js.tick()
    fc = next(m for m in bus.take(DELIVER) if m.reply and m.reply.startswith("$JS.FC."))
    clock.advance(0.3)
    js.tick()
    beat = bus.take(DELIVER)[-1]
    assert beat.headers["Description"] == "Idle Heartbeat"
    assert beat.headers["Nats-Consumer-Stalled"] == fc.reply


def test_pull_request_heartbeats_then_times_out(make_js, clock) -> None:
    js, bus = make_js()
    stream(bus)
    consumer(bus, ack_policy="explicit")
    request = {"batch": 1, "expires": 1_000_000_000, "idle_heartbeat": 300_000_000}
    bus.publish(ACCOUNT, f"{API}CONSUMER.MSG.NEXT.S.c", json.dumps(request).encode(), reply="r")
    clock.advance(0.35)
    js.tick()
    assert [m.headers["Description"] for m in bus.take("r")] == ["Idle Heartbeat"]
    clock.advance(0.7)
    js.tick()
    assert [m.headers["Status"] for m in bus.take("r")] == ["408"]
    too_large = {"batch": 1, "expires": 100_000_000, "idle_heartbeat": 90_000_000}
    bus.publish(ACCOUNT, f"{API}CONSUMER.MSG.NEXT.S.c", json.dumps(too_large).encode(), reply="r")
    assert bus.take("r")[0].headers["Description"] == "Bad Request - heartbeat value too large"


def test_paused_consumer_holds_pulls_until_resumed(make_js, clock) -> None:
    js, bus = make_js()
    stream(bus)
    bus.request(ACCOUNT, "s.a", b"one")
    consumer(bus, ack_policy="explicit")
    until = go_time(clock.now + 3_600_000_000_000)  # an hour from now
    paused = bus.request(ACCOUNT, f"{API}CONSUMER.PAUSE.S.c", {"pause_until": until})
    assert paused["paused"] is True and paused["pause_remaining"] > 0
    bus.publish(ACCOUNT, f"{API}CONSUMER.MSG.NEXT.S.c", b'{"batch": 1}', reply="r")
    js.tick()
    assert bus.take("r") == []
    info = bus.request(ACCOUNT, f"{API}CONSUMER.INFO.S.c")
    assert info["paused"] is True and info["config"]["metadata"]["_nats.req.level"] == "1"
    resumed = bus.request(ACCOUNT, f"{API}CONSUMER.PAUSE.S.c", {})
    assert resumed == {
        "type": "io.nats.jetstream.api.v1.consumer_pause_response",
        "paused": False,
        "pause_until": "0001-01-01T00:00:00Z",
    }
    assert [m.payload for m in bus.take("r")] == [b"one"]


def test_last_per_subject_then_new_messages(make_js) -> None:
    js, bus = make_js()
    stream(bus)
    for subject, body in (("s.a", b"a1"), ("s.b", b"b1"), ("s.a", b"a2"), ("s.c", b"c1")):
        bus.request(ACCOUNT, subject, body)
    consumer(bus, ack_policy="none", deliver_policy="last_per_subject", filter_subject="s.*")
    bus.publish(ACCOUNT, f"{API}CONSUMER.MSG.NEXT.S.c", b'{"batch": 9}', reply="r")
    assert [m.payload for m in bus.take("r")] == [b"b1", b"a2", b"c1"]
    bus.request(ACCOUNT, "s.b", b"b2")
    assert [m.payload for m in bus.take("r")] == [b"b2"]


def test_rollup_ttl_and_sealed(make_js, clock) -> None:
    js, bus = make_js()
    stream(bus, allow_rollup_hdrs=True, allow_msg_ttl=True)
    for i in range(3):
        bus.request(ACCOUNT, "s.k", b"%d" % i)
    ack = bus.request(ACCOUNT, "s.k", b"top", {"Nats-Rollup": "sub"})
    assert ack == {"stream": "S", "seq": 4}
    bus.request(ACCOUNT, "s.t", b"t", {"Nats-TTL": "2s"})
    bad = bus.request(ACCOUNT, "s.t", b"t", {"Nats-TTL": "1ms"})
    assert bad["error"]["err_code"] == 10165
    state = bus.request(ACCOUNT, f"{API}STREAM.INFO.S", {"subjects_filter": ">"})["state"]
    assert state["subjects"] == {"s.k": 1, "s.t": 1}
    clock.advance(2.5)
    js.tick()
    state = bus.request(ACCOUNT, f"{API}STREAM.INFO.S", {"deleted_details": True})["state"]
    assert (state["messages"], state["deleted"]) == (1, [5])  # the TTL'd one, after s.k
    sealed = bus.request(
        ACCOUNT,
        f"{API}STREAM.UPDATE.S",
        {"name": "S", "subjects": ["s.>"], "allow_msg_ttl": True, "sealed": True},
    )
    assert sealed["config"]["deny_delete"] and sealed["config"]["discard"] == "new"
    assert bus.request(ACCOUNT, "s.k", b"no")["error"]["err_code"] == 10109


def test_republish_and_subject_transform(make_js) -> None:
    js, bus = make_js()
    stream(
        bus,
        subject_transform={"src": "s.*", "dest": "s.in.{{wildcard(1)}}"},
        republish={"src": "s.>", "dest": "out.>"},
    )
    ack = bus.request(ACCOUNT, "s.x", b"hello")
    assert ack == {"stream": "S", "seq": 1}
    [copy] = bus.take("out.in.x")
    assert copy.payload == b"hello"
    assert copy.headers["Nats-Subject"] == "s.in.x" and copy.headers["Nats-Sequence"] == "1"
    assert copy.headers["Nats-Last-Sequence"] == "0"
    got = bus.request(ACCOUNT, f"{API}STREAM.MSG.GET.S", {"seq": 1})
    assert got["message"]["subject"] == "s.in.x"


def test_unknown_fields_are_refused_as_nats_server_does(make_js) -> None:
    js, bus = make_js()
    answer = stream(bus, bogus=1)
    assert answer["error"] == {
        "code": 400,
        "err_code": 10025,
        "description": 'invalid JSON: json: unknown field "bogus"',
    }
    stream(bus)
    answer = consumer(bus, priority_groups=["g"], priority_policy="overflow")
    assert answer["error"]["err_code"] == 10012


@given(st.lists(st.from_regex(r"[a-z0-9]{1,5}", fullmatch=True), min_size=2, max_size=5))
def test_wildcard_transform_moves_tokens(tokens: list[str]) -> None:
    source = ".".join(["in", *["*"] * len(tokens)])
    dest = ".".join(["out", *[f"{{{{wildcard({i})}}}}" for i in range(len(tokens), 0, -1)]])
    transform = SubjectTransform.parse(source, dest)
    assert transform.apply(".".join(["in", *tokens])) == ".".join(["out", *reversed(tokens)])


def test_transform_functions_other_than_wildcard_are_refused() -> None:
    with pytest.raises(TransformError):
        SubjectTransform.parse("a.*", "b.{{partition(3,1)}}")
    with pytest.raises(TransformError):
        SubjectTransform.parse("a.*", "b.{{wildcard(2)}}")


@given(st.integers(0, 99), st.integers(0, 59), st.integers(0, 59), st.integers(0, 999))
def test_parse_duration_reads_go_durations(hours: int, minutes: int, seconds: int, ms: int) -> None:
    text = f"{hours}h{minutes}m{seconds}s{ms}ms"
    expected = ((hours * 60 + minutes) * 60 + seconds) * 1_000_000_000 + ms * 1_000_000
    assert parse_duration(text) == expected
    with pytest.raises(ValueError):
        parse_duration(text + "x")


def test_subject_delete_markers_after_max_age_then_expire(make_js, clock) -> None:
    js, bus = make_js()
    stream(bus, max_age=1_000_000_000, subject_delete_marker_ttl=2_000_000_000)
    bus.request(ACCOUNT, "s.a", b"1")
    bus.request(ACCOUNT, "s.a", b"2")
    bus.request(ACCOUNT, "s.b", b"3")
    clock.advance(1.5)
    js.tick()
    marker = bus.request(ACCOUNT, f"{API}STREAM.MSG.GET.S", {"seq": 4})["message"]
    assert marker["subject"] == "s.a" and "data" in marker
    state = bus.request(ACCOUNT, f"{API}STREAM.INFO.S", {"subjects_filter": ">"})["state"]
    assert (state["first_seq"], state["last_seq"], state["subjects"]) == (
        4,
        5,
        {"s.a": 1, "s.b": 1},
    )
    clock.advance(2.5)
    js.tick()  # the markers expire and leave no markers of their own
    state = bus.request(ACCOUNT, f"{API}STREAM.INFO.S")["state"]
    assert (state["messages"], state["last_seq"]) == (0, 5)


def test_backoff_spaces_redeliveries(make_js, clock) -> None:
    js, bus = make_js()
    stream(bus)
    bus.request(ACCOUNT, "s.a", b"job")
    info = consumer(bus, ack_policy="explicit", backoff=[1_000_000_000, 3_000_000_000])
    assert info["config"]["ack_wait"] == 1_000_000_000  # the first backoff, as nats-server
    bus.publish(ACCOUNT, f"{API}CONSUMER.MSG.NEXT.S.c", b'{"batch": 5}', reply="r")
    deliveries = []
    for _ in range(10):  # 5 s in half seconds
        deliveries += [m.reply.split(".")[4] for m in bus.take("r")]
        clock.advance(0.5)
        js.tick()
    # delivered at 0 s, again after 1 s, then every 3 s (the last backoff repeats)
    assert deliveries == ["1", "2", "3"]


def test_mem_storage_consumer_is_not_persisted(make_js, tmp_path) -> None:
    js, bus = make_js()
    stream(bus)
    consumer(bus, name="disk", ack_policy="explicit")
    consumer(bus, name="ram", ack_policy="explicit", mem_storage=True)
    js.stop()
    again, bus2 = make_js()
    names = bus2.request(ACCOUNT, f"{API}CONSUMER.NAMES.S")["consumers"]
    assert names == ["disk"]


def test_durable_consumer_config_survives_a_restart(make_js, tmp_path) -> None:
    js, bus = make_js()
    stream(bus, allow_msg_ttl=True, consumer_limits={"max_ack_pending": 50})
    bus.request(ACCOUNT, "s.a", b"x")
    configs = {
        "push": {
            "deliver_subject": DELIVER,
            "flow_control": True,
            "idle_heartbeat": 1_000_000_000,
            "headers_only": True,
            "ack_policy": "explicit",
            "backoff": [1_000_000_000, 2_000_000_000],
            "deliver_policy": "by_start_time",
            "opt_start_time": "2020-01-01T00:00:00Z",
            "metadata": {"team": "a"},
        },
        "pull": {
            "ack_policy": "all",
            "max_batch": 5,
            "max_expires": 2_000_000_000,
            "max_bytes": 1000,
            "filter_subjects": ["s.a", "s.b"],
            "deliver_policy": "last_per_subject",
            "num_replicas": 1,
            "pause_until": "2100-01-01T00:00:00Z",
        },
    }
    before = {name: consumer(bus, name=name, **cfg)["config"] for name, cfg in configs.items()}
    js.stop()
    again, bus2 = make_js()
    for name in configs:
        after = bus2.request(ACCOUNT, f"{API}CONSUMER.INFO.S.{name}")["config"]
        assert after == before[name]


@given(st.integers(1, 4_102_444_800_000_000_000))  # up to 2100
def test_go_time_round_trips(ns: int) -> None:
    assert parse_go_time(go_time(ns)) == ns


@given(st.integers(0, 10**16))
def test_go_duration_is_read_back_exactly(ns: int) -> None:
    assert parse_duration(go_duration(ns)) == ns


def test_go_duration_spells_as_go() -> None:
    cases = {0: "0s", 999: "999ns", 1_500: "1.5µs", 2_000_000: "2ms", 1_000_000_000: "1s"}
    cases |= {90_500_000_000: "1m30.5s", 3_600_000_000_000: "1h0m0s", 1_234_567: "1.234567ms"}
    assert {ns: go_duration(ns) for ns in cases} == cases
