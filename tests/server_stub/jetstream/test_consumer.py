"""Pull consumers through the engine: batches, 404/408 statuses, acks and redelivery."""

from __future__ import annotations

import json

from .conftest import ACCOUNT

API = "$JS.API."
INBOX = "_INBOX.pull"


def setup(make_js, count=1, **consumer):
    js, bus = make_js()
    bus.request(ACCOUNT, f"{API}STREAM.CREATE.ORDERS", {"name": "ORDERS", "subjects": ["orders.>"]})
    for i in range(count):
        bus.request(ACCOUNT, f"orders.{i}", b"m%d" % i, {"Nats-Msg-Id": str(i)})
    config = {"durable_name": "dur", "ack_policy": "explicit", "ack_wait": 1_000_000_000}
    config.update(consumer)
    info = bus.request(
        ACCOUNT, f"{API}CONSUMER.CREATE.ORDERS.dur", {"stream_name": "ORDERS", "config": config}
    )
    return js, bus, info


def pull(bus, **request):
    bus.publish(
        ACCOUNT, f"{API}CONSUMER.MSG.NEXT.ORDERS.dur", json.dumps(request).encode(), reply=INBOX
    )
    return bus.take(INBOX)


def test_create_response_shape(make_js) -> None:
    js, bus, info = setup(make_js)
    assert info["type"] == "io.nats.jetstream.api.v1.consumer_create_response"
    assert info["config"]["max_ack_pending"] == 1000 and info["config"]["max_waiting"] == 512
    assert (info["num_pending"], info["delivered"]) == (1, {"consumer_seq": 0, "stream_seq": 0})
    names = bus.request(ACCOUNT, f"{API}CONSUMER.NAMES.ORDERS")
    assert names["consumers"] == ["dur"]
    wrong = bus.request(
        ACCOUNT,
        f"{API}CONSUMER.CREATE.ORDERS.xx",
        {"stream_name": "ORDERS", "config": {"durable_name": "yy"}},
    )
    assert wrong["error"]["err_code"] == 10017
    missing = bus.request(ACCOUNT, f"{API}CONSUMER.INFO.ORDERS.nope")
    assert missing["error"] == {"code": 404, "err_code": 10014, "description": "consumer not found"}
    eph = bus.request(
        ACCOUNT, f"{API}CONSUMER.CREATE.ORDERS", {"stream_name": "ORDERS", "config": {}}
    )
    assert len(eph["name"]) == 8 and eph["config"]["inactive_threshold"] == 5_000_000_000
    # a pull on a consumer that does not exist has no responder, as on nats-server
    assert not bus.has_responder(ACCOUNT, f"{API}CONSUMER.MSG.NEXT.ORDERS.nope")


def test_no_wait_delivers_what_there_is_then_404(make_js) -> None:
    js, bus, _ = setup(make_js)
    got = pull(bus, batch=3, no_wait=True)
    assert [m.payload for m in got] == [b"m0", b""]
    assert got[0].headers == {"Nats-Msg-Id": "0"}
    tokens = got[0].reply.split(".")
    assert tokens[:8] == ["$JS", "ACK", "ORDERS", "dur", "1", "1", "1", tokens[7]]
    assert tokens[8] == "0"  # pending after this one
    assert got[1].headers == {"Status": "404", "Description": "No Messages"}


def test_expiring_request_gets_408_and_waiting_request_gets_new_messages(make_js, clock) -> None:
    js, bus, _ = setup(make_js, count=0)
    assert pull(bus, batch=3, expires=300_000_000) == []
    clock.advance(0.4)
    js.tick()
    timeout = bus.take(INBOX)
    assert timeout[0].headers == {
        "Status": "408",
        "Description": "Request Timeout",
        "Nats-Pending-Messages": "3",
        "Nats-Pending-Bytes": "0",
    }
    assert pull(bus, batch=2) == []  # no expiry: waits
    bus.request(ACCOUNT, "orders.late", b"late")
    got = bus.take(INBOX)
    assert [m.payload for m in got] == [b"late"]


def test_ack_wait_redelivery_and_ack_floor(make_js, clock) -> None:
    js, bus, _ = setup(make_js, count=2)
    first = pull(bus, batch=2, no_wait=True)
    assert [m.payload for m in first[:2]] == [b"m0", b"m1"]
    bus.publish(ACCOUNT, first[0].reply, b"+ACK")
    info = bus.request(ACCOUNT, f"{API}CONSUMER.INFO.ORDERS.dur")
    assert (info["num_ack_pending"], info["ack_floor"]["stream_seq"]) == (1, 1)
    clock.advance(1.1)  # past ack_wait
    js.tick()
    again = pull(bus, batch=1, no_wait=True)
    assert again[0].payload == b"m1"
    assert again[0].reply.split(".")[4:7] == ["2", "2", "3"]  # 2nd delivery, sseq 2, cseq 3
    info = bus.request(ACCOUNT, f"{API}CONSUMER.INFO.ORDERS.dur")
    assert info["num_redelivered"] == 1
    bus.publish(ACCOUNT, again[0].reply, b"+ACK")
    info = bus.request(ACCOUNT, f"{API}CONSUMER.INFO.ORDERS.dur")
    assert info["ack_floor"] == {
        "consumer_seq": 3,
        "stream_seq": 2,
        "last_active": info["ack_floor"]["last_active"],
    }
    assert (info["num_ack_pending"], info["num_pending"]) == (0, 0)


def test_nak_term_wpi_and_ack_sync(make_js, clock) -> None:
    js, bus, _ = setup(make_js, count=2)
    m0, m1, _status = pull(bus, batch=3, no_wait=True)
    bus.publish(ACCOUNT, m0.reply, b"-NAK")
    assert [m.payload for m in pull(bus, batch=1, no_wait=True)] == [b"m0"]
    bus.publish(ACCOUNT, m1.reply, b"+TERM")
    clock.advance(0.8)
    bus.publish(ACCOUNT, m0.reply, b"+WPI")
    clock.advance(0.5)  # 1.3 s since delivery but only 0.5 s since +WPI
    js.tick()
    assert pull(bus, batch=1, no_wait=True)[0].headers["Status"] == "404"
    bus.publish(ACCOUNT, m0.reply, b"+ACK", reply="_INBOX.acksync")
    assert bus.take("_INBOX.acksync")[0].payload == b""
    info = bus.request(ACCOUNT, f"{API}CONSUMER.INFO.ORDERS.dur")
    assert info["num_ack_pending"] == 0


def test_max_deliver_and_filter(make_js, clock) -> None:
    js, bus, _ = setup(make_js, count=3, max_deliver=2, filter_subject="orders.1")
    assert [m.payload for m in pull(bus, batch=5, no_wait=True)][:1] == [b"m1"]
    for _ in range(3):
        clock.advance(1.1)
        js.tick()
    redelivered = pull(bus, batch=5, no_wait=True)
    assert [m.payload for m in redelivered] == [b"m1", b""]
    clock.advance(1.1)
    js.tick()
    assert pull(bus, batch=5, no_wait=True)[0].headers["Status"] == "404"


def test_durable_consumer_survives_restart(make_js) -> None:
    js, bus, _ = setup(make_js, count=3)
    got = pull(bus, batch=2, no_wait=True)
    bus.publish(ACCOUNT, got[0].reply, b"+ACK")
    js.stop()
    js2, bus2 = make_js()
    info = bus2.request(ACCOUNT, f"{API}CONSUMER.INFO.ORDERS.dur")
    assert info["delivered"]["stream_seq"] == 2 and info["num_ack_pending"] == 1
    assert [m.payload for m in pull(bus2, batch=1, no_wait=True)] == [b"m2"]


def test_ephemeral_consumer_goes_away_when_idle(make_js, clock) -> None:
    js, bus, _ = setup(make_js)
    eph = bus.request(
        ACCOUNT, f"{API}CONSUMER.CREATE.ORDERS", {"stream_name": "ORDERS", "config": {}}
    )
    clock.advance(6)
    js.tick()
    gone = bus.request(ACCOUNT, f"{API}CONSUMER.INFO.ORDERS.{eph['name']}")
    assert gone["error"]["err_code"] == 10014
    assert bus.request(ACCOUNT, f"{API}CONSUMER.INFO.ORDERS.dur")["name"] == "dur"


def test_deleting_a_consumer_tells_waiting_pulls(make_js) -> None:
    js, bus, _ = setup(make_js, count=0)
    pull(bus, batch=1, expires=10_000_000_000)
    assert bus.request(ACCOUNT, f"{API}CONSUMER.DELETE.ORDERS.dur")["success"] is True
    assert bus.take(INBOX)[0].headers["Status"] == "409"
    assert bus.request(ACCOUNT, f"{API}CONSUMER.DELETE.ORDERS.dur")["error"]["err_code"] == 10014
