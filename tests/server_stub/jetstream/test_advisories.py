"""JetStream advisories: the pure builders, and the engine publishing only where someone listens."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nscpy.jwt.subject import subject_matches
from server_stub.jetstream import advisories, errors
from server_stub.jetstream.consumerconfig import sampling_percent
from server_stub.jetstream.wire import go_json

from .conftest import ACCOUNT, LocalBus

API = "$JS.API."


def test_event_is_the_typed_head_then_the_fields_then_the_domain() -> None:
    subject, kind, fields = advisories.stream_action("ORDERS", "UPDATED")
    assert subject == "$JS.EVENT.ADVISORY.STREAM.UPDATED.ORDERS"
    body = advisories.event(kind, fields, event_id="X" * 22, now=15_000_000_005, domain="hub")
    assert json.dumps(body) == json.dumps(
        {
            "type": "io.nats.jetstream.advisory.v1.stream_action",
            "id": "X" * 22,
            "timestamp": "1970-01-01T00:00:15.000000005Z",
            "stream": "ORDERS",
            "action": "modify",
            "domain": "hub",
        }
    )
    assert "domain" not in advisories.event(kind, fields, event_id="x", now=1, domain="")


def test_action_names_are_nats_servers() -> None:
    assert [advisories.stream_action("S", w)[2]["action"] for w in ("CREATED", "DELETED")] == [
        "create",
        "delete",
    ]
    subject, kind, fields = advisories.consumer_action("S", "C", "DELETED")
    assert subject == "$JS.EVENT.ADVISORY.CONSUMER.DELETED.S.C"
    assert kind == "io.nats.jetstream.advisory.v1.consumer_action"
    assert list(fields.items()) == [("stream", "S"), ("consumer", "C"), ("action", "delete")]


@given(st.integers(min_value=1, max_value=3000))
def test_nuids_are_22_base62_characters_and_unique(count: int) -> None:
    ids = advisories.Nuid()
    made = [ids.next() for _ in range(count)]
    assert len(set(made)) == count
    assert all(len(i) == 22 and i.isascii() and i.isalnum() for i in made)


def test_nuid_starts_a_new_prefix_when_the_sequence_runs_out() -> None:
    ids = advisories.Nuid()
    first = ids.next()
    ids._seq = 62**10 - 1  # the sequence's last value: the next id has a fresh prefix
    after = ids.next()
    assert after[:12] != first[:12] and len(after) == 22


@dataclass
class ListeningBus(LocalBus):
    """A LocalBus that tells interest, as the server's bus does, for the subjects in `wanted`."""

    wanted: list[str] = field(default_factory=list)

    def has_interest(self, account: str, subject: str) -> bool:
        return account == ACCOUNT and any(subject_matches(w, subject) for w in self.wanted)


def _events(bus: LocalBus) -> list[tuple[str, str]]:
    return [
        (m.subject, json.loads(m.payload)["action"])
        for m in bus.sent
        if m.subject.startswith("$JS.EVENT.") and m.subject != "$JS.EVENT.ADVISORY.API"
    ]


def _story(bus: LocalBus) -> None:
    stream = {"name": "S", "subjects": ["s.>"]}
    bus.request(ACCOUNT, f"{API}STREAM.CREATE.S", stream)
    bus.request(ACCOUNT, f"{API}STREAM.UPDATE.S", stream)
    bus.request(ACCOUNT, f"{API}CONSUMER.CREATE.S.C", {"config": {"name": "C"}})
    bus.request(ACCOUNT, f"{API}STREAM.DELETE.S")


def test_events_go_where_a_subscription_wants_them(make_js, tmp_path) -> None:
    _, bus = make_js(bus=ListeningBus(wanted=["$JS.EVENT.ADVISORY.STREAM.>"]))
    _story(bus)
    assert _events(bus) == [
        ("$JS.EVENT.ADVISORY.STREAM.CREATED.S", "create"),
        ("$JS.EVENT.ADVISORY.STREAM.UPDATED.S", "modify"),
        ("$JS.EVENT.ADVISORY.STREAM.DELETED.S", "delete"),
    ]
    _, everything = make_js(bus=ListeningBus(wanted=[">"]), store_dir=tmp_path / "second")
    _story(everything)
    assert [s for s, _ in _events(everything)] == [
        "$JS.EVENT.ADVISORY.STREAM.CREATED.S",
        "$JS.EVENT.ADVISORY.STREAM.UPDATED.S",
        "$JS.EVENT.ADVISORY.CONSUMER.CREATED.S.C",
        "$JS.EVENT.ADVISORY.CONSUMER.DELETED.S.C",
        "$JS.EVENT.ADVISORY.STREAM.DELETED.S",
    ]


def test_no_listener_no_event(make_js) -> None:
    _, bus = make_js(bus=ListeningBus(wanted=["$JS.EVENT.METRIC.>"]))
    _story(bus)
    assert _events(bus) == []
    _, deaf = make_js(bus=LocalBus())  # a bus that cannot tell interest gets none either
    _story(deaf)
    assert _events(deaf) == []


def test_api_audit_fields_in_go_order_request_omitted_when_empty() -> None:
    subject, kind, fields = advisories.api_audit("srv", None, "$JS.API.INFO", b"", b"{}")
    assert (subject, kind) == ("$JS.EVENT.ADVISORY.API", "io.nats.jetstream.advisory.v1.api_audit")
    # a request from no client connection: Go's nil *ClientInfo is null, not left out
    assert list(fields.items()) == [
        ("server", "srv"),
        ("client", None),
        ("subject", "$JS.API.INFO"),
        ("response", "{}"),
    ]
    _, _, sent = advisories.api_audit("srv", {}, "$JS.API.X", b"bad \xff<", b"{}")
    assert list(sent) == ["server", "client", "subject", "request", "response"]
    assert sent["request"] == "bad \ufffd<"  # Go marshals invalid UTF-8 as U+FFFD
    body = go_json(advisories.event(kind, sent, event_id="i", now=1, domain=""))
    assert '"request":"bad \ufffd\\u003c"' in body  # and escapes HTML characters


def test_client_info_in_go_order_with_empty_fields_omitted() -> None:
    every = advisories.client_info(
        start=1_000_000_000,
        host="127.0.0.1",
        cid=7,
        account="ACC",
        user="UKEY",
        name="app",
        lang="python3",
        version="2.16.0",
        rtt=1500,
        server="NSRV",
        issuer_key="ASIGNER",
        name_tag="alice",
        tags=["a", "b"],
        client_type="websocket",
    )
    assert list(every.items()) == [
        ("start", "1970-01-01T00:00:01Z"),
        ("host", "127.0.0.1"),
        ("id", 7),
        ("acc", "ACC"),
        ("user", "UKEY"),
        ("name", "app"),
        ("lang", "python3"),
        ("ver", "2.16.0"),
        ("rtt", 1500),
        ("server", "NSRV"),
        ("issuer_key", "ASIGNER"),
        ("name_tag", "alice"),
        ("tags", ["a", "b"]),
        ("kind", "Client"),
        ("client_type", "websocket"),
    ]
    bare = advisories.client_info(
        start=0, host="", cid=0, account="$G", user="", name="", lang="", version="", rtt=0,
        server="S",
    )  # fmt: skip
    assert list(bare.items()) == [
        ("start", "0001-01-01T00:00:00Z"),
        ("acc", "$G"),
        ("server", "S"),
        ("kind", "Client"),
        ("client_type", "nats"),
    ]


def test_every_answered_api_request_is_audited_once(make_js) -> None:
    _, bus = make_js(bus=ListeningBus(wanted=["$JS.EVENT.ADVISORY.API"]))
    _story(bus)
    bus.request(ACCOUNT, f"{API}STREAM.INFO.GONE")  # an error answer is audited too
    audits = [json.loads(m.payload) for m in bus.sent if m.subject == "$JS.EVENT.ADVISORY.API"]
    answers = [json.loads(m.payload) for m in bus.sent if m.subject.startswith("_INBOX.")]
    assert [a["subject"] for a in audits] == [
        f"{API}STREAM.CREATE.S",
        f"{API}STREAM.UPDATE.S",
        f"{API}CONSUMER.CREATE.S.C",
        f"{API}STREAM.DELETE.S",
        f"{API}STREAM.INFO.GONE",
    ]
    assert [json.loads(a["response"]) for a in audits] == answers
    assert [a["client"] for a in audits] == [None] * 5  # no client connection on this bus
    assert "request" not in audits[-1]


def test_delivery_events_in_go_order() -> None:
    subject, kind, fields = advisories.msg_naked("S", "C", 4, 9, 2)
    assert subject == "$JS.EVENT.ADVISORY.CONSUMER.MSG_NAKED.S.C"
    assert kind == "io.nats.jetstream.advisory.v1.nak"
    assert list(fields.items()) == [
        ("stream", "S"),
        ("consumer", "C"),
        ("consumer_seq", 4),
        ("stream_seq", 9),
        ("deliveries", 2),
    ]
    subject, kind, fields = advisories.msg_terminated("S", "C", 4, 9, 2, "why")
    assert subject == "$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.S.C"
    assert kind == "io.nats.jetstream.advisory.v1.terminated"
    assert list(fields)[-2:] == ["deliveries", "reason"] and fields["reason"] == "why"
    assert "reason" not in advisories.msg_terminated("S", "C", 4, 9, 2, "")[2]


def test_max_deliveries_event() -> None:
    subject, kind, fields = advisories.max_deliveries("S", "C", 9, 3)
    assert subject == "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.S.C"
    assert kind == "io.nats.jetstream.advisory.v1.max_deliver"
    assert list(fields.items()) == [
        ("stream", "S"),
        ("consumer", "C"),
        ("stream_seq", 9),
        ("deliveries", 3),
    ]


@given(st.integers(min_value=-(2**70), max_value=2**70), st.booleans())
def test_sampling_percent_reads_numbers_as_go_atoi_then_int32(number: int, percent: bool) -> None:
    text = f"{number}%" if percent else str(number)
    if number < 0 or number >= 2**63:
        with pytest.raises(errors.ApiError) as refused:
            sampling_percent(text)
        assert refused.value.err_code == 10095
        wanted = "<nil>" if number < 0 and number >= -(2**63) else "value out of range"
        assert wanted in refused.value.description
    else:
        assert sampling_percent(text) == (number + 2**31) % 2**32 - 2**31


def test_sampling_percent_refusals_worded_as_nats_server() -> None:
    assert sampling_percent("") == 0
    assert sampling_percent("+7") == 7 and sampling_percent("007%") == 7
    with pytest.raises(errors.ApiError) as refused:
        sampling_percent("7%%")  # one % is trimmed, as Go's TrimSuffix
    assert refused.value.description == (
        'failed to parse consumer sampling configuration: strconv.Atoi: parsing "7%": '
        "invalid syntax"
    )
    with pytest.raises(errors.ApiError) as wrong_type:
        sampling_percent(50)
    assert wrong_type.value.err_code == 10025
    assert "cannot unmarshal number into Go struct field" in wrong_type.value.description


def test_ack_metric_fields_in_go_order() -> None:
    subject, kind, fields = advisories.ack_sample("S", "C", 4, 9, 1234, 2)
    assert subject == "$JS.EVENT.METRIC.CONSUMER.ACK.S.C"
    assert kind == "io.nats.jetstream.metric.v1.consumer_ack"
    assert list(fields) == [
        "stream", "consumer", "consumer_seq", "stream_seq", "ack_time", "deliveries"
    ]  # fmt: skip


@pytest.mark.parametrize(("drawn", "sampled"), [(50, True), (51, False)])
def test_a_partial_sample_freq_draws_as_nats_server(make_js, monkeypatch, drawn, sampled) -> None:
    """rand.Int31n(100) <= sfreq: a draw equal to the frequency still samples (so "50%"
    samples 51 acks in 100)."""
    from server_stub.jetstream import consumer

    monkeypatch.setattr(consumer.random, "randrange", lambda n: drawn)
    _, bus = make_js(bus=ListeningBus(wanted=["$JS.EVENT.METRIC.>"]))
    bus.request(ACCOUNT, f"{API}STREAM.CREATE.S", {"name": "S", "subjects": ["s.>"]})
    config = {"durable_name": "C", "ack_policy": "explicit", "sample_freq": "50%"}
    bus.request(ACCOUNT, f"{API}CONSUMER.DURABLE.CREATE.S.C", {"config": config})
    bus.request(ACCOUNT, "s.1", b"x")
    bus.publish(ACCOUNT, f"{API}CONSUMER.MSG.NEXT.S.C", b'{"batch":1}', reply="_INBOX.pull")
    (delivered,) = bus.take("_INBOX.pull")
    assert delivered.reply is not None and delivered.reply.startswith("$JS.ACK.S.C.1.1.1.")
    bus.publish(ACCOUNT, delivered.reply, b"+ACK")
    metrics = bus.take("$JS.EVENT.METRIC.CONSUMER.ACK.S.C")
    assert len(metrics) == (1 if sampled else 0)


def test_pause_event_in_go_order_with_the_zero_time() -> None:
    subject, kind, fields = advisories.consumer_pause("S", "C", False, 0)
    assert subject == "$JS.EVENT.ADVISORY.CONSUMER.PAUSE.S.C"
    assert kind == "io.nats.jetstream.advisory.v1.consumer_pause"
    assert list(fields.items()) == [
        ("stream", "S"),
        ("consumer", "C"),
        ("paused", False),
        ("pause_until", "0001-01-01T00:00:00Z"),  # Go's omitempty keeps a zero time.Time
    ]
