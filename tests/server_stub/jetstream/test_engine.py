"""The engine through an in-process bus: API answers, publish checks, limits, restart."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server_stub.jetstream import JsLimits
from server_stub.jetstream.stream import ack_prefix
from server_stub.jetstream.wire import go_json

from .conftest import ACCOUNT

API = "$JS.API."


def create(bus, name="ORDERS", **config):
    body = {"name": name, "subjects": config.pop("subjects", ["orders.>"]), **config}
    return bus.request(ACCOUNT, f"{API}STREAM.CREATE.{name}", body)


def test_create_publish_get_info_like_nats_server(make_js) -> None:
    js, bus = make_js()
    created = create(bus)
    assert created["type"] == "io.nats.jetstream.api.v1.stream_create_response"
    assert created["did_create"] is True
    assert created["config"]["duplicate_window"] == 120_000_000_000
    assert created["state"]["first_ts"] == "0001-01-01T00:00:00Z"
    assert create(bus)["did_create"] is True  # same config again is fine
    again = create(bus, subjects=["orders.x"])
    assert again["error"] == {
        "code": 400,
        "err_code": 10058,
        "description": "stream name already in use with a different configuration",
    }
    assert bus.request(ACCOUNT, "orders.1", b"hello", {"Nats-Msg-Id": "a"}) == {
        "stream": "ORDERS",
        "seq": 1,
    }
    assert bus.request(ACCOUNT, "orders.1", b"hello", {"Nats-Msg-Id": "a"}) == {
        "stream": "ORDERS",
        "seq": 1,
        "duplicate": True,
    }
    info = bus.request(ACCOUNT, f"{API}STREAM.INFO.ORDERS")
    assert info["state"]["bytes"] == 75  # nats-server's figure for this exact message
    assert (info["state"]["messages"], info["state"]["num_subjects"]) == (1, 1)
    got = bus.request(ACCOUNT, f"{API}STREAM.MSG.GET.ORDERS", {"seq": 1})["message"]
    assert got["hdrs"] == "TkFUUy8xLjANCk5hdHMtTXNnLUlkOiBhDQoNCg=="  # as nats-server sent
    assert base64.b64decode(got["data"]) == b"hello"
    missing = bus.request(ACCOUNT, f"{API}STREAM.MSG.GET.ORDERS", {"seq": 99})
    assert missing["error"]["err_code"] == 10037
    bad = bus.request(ACCOUNT, f"{API}STREAM.MSG.GET.ORDERS", b"{bad")
    assert bad["error"]["err_code"] == 10025


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({"Nats-Expected-Stream": "NOPE"}, (10060, "expected stream does not match")),
        ({"Nats-Expected-Last-Sequence": "7"}, (10071, "wrong last sequence: 1")),
        ({"Nats-Expected-Last-Msg-Id": "zz"}, (10070, "wrong last msg ID: a")),
        ({"Nats-Expected-Last-Subject-Sequence": "9"}, (10071, "wrong last sequence: 0")),
    ],
)
def test_expected_headers(make_js, headers, error) -> None:
    js, bus = make_js()
    create(bus)
    bus.request(ACCOUNT, "orders.1", b"hello", {"Nats-Msg-Id": "a"})
    ack = bus.request(ACCOUNT, "orders.2", b"x", headers)
    assert (ack["error"]["err_code"], ack["error"]["description"]) == error
    assert (ack["stream"], ack["seq"]) == ("ORDERS", 0)


def test_memory_stream_discard_new_and_sizes(make_js) -> None:
    js, bus = make_js()
    create(bus, "M", subjects=["m.*"], storage="memory", max_msgs=3, discard="new", max_msg_size=10)
    too_big = bus.request(ACCOUNT, "m.1", b"01234567890")
    assert too_big["error"]["description"] == "message size exceeds maximum allowed"
    assert [bus.request(ACCOUNT, "m.1", b"a").get("seq") for _ in range(3)] == [1, 2, 3]
    full = bus.request(ACCOUNT, "m.1", b"a")
    assert full["error"] == {
        "code": 503,
        "err_code": 10077,
        "description": "maximum messages exceeded",
    }
    assert bus.request(ACCOUNT, f"{API}STREAM.INFO.M")["state"]["bytes"] == 60


def test_discard_old_limits_and_max_age(make_js, clock) -> None:
    js, bus = make_js()
    create(bus, "BIG", subjects=["big"], max_msgs=2)
    for _ in range(3):
        bus.request(ACCOUNT, "big", b"x")
    state = bus.request(ACCOUNT, f"{API}STREAM.INFO.BIG")["state"]
    assert (state["messages"], state["bytes"], state["first_seq"], state["last_seq"]) == (
        2,
        68,
        2,
        3,
    )
    create(bus, "AGE", subjects=["age"], max_age=500_000_000, max_bytes=100)
    assert (
        bus.request(ACCOUNT, f"{API}STREAM.INFO.AGE")["config"]["duplicate_window"] == 500_000_000
    )
    for _ in range(5):
        bus.request(ACCOUNT, "age", b"0123456789")
    assert bus.request(ACCOUNT, f"{API}STREAM.INFO.AGE")["state"]["bytes"] <= 100
    clock.advance(0.6)
    js.tick()
    state = bus.request(ACCOUNT, f"{API}STREAM.INFO.AGE")["state"]
    assert (state["messages"], state["first_seq"], state["last_seq"]) == (0, 6, 5)


def test_admin_requests(make_js) -> None:
    js, bus = make_js()
    create(bus)
    create(bus, "M", subjects=["m.*"], storage="memory")
    overlap = create(bus, "OTHER", subjects=["orders.1"])
    assert overlap["error"]["err_code"] == 10065
    assert create(bus, "X", subjects=["a..b"])["error"]["description"] == "invalid subject"
    mismatch = bus.request(ACCOUNT, f"{API}STREAM.CREATE.BAD", {"name": "X"})
    assert mismatch["error"]["err_code"] == 10056
    names = bus.request(ACCOUNT, f"{API}STREAM.NAMES", b"")
    assert (names["streams"], names["limit"]) == (["M", "ORDERS"], 1024)
    assert bus.request(ACCOUNT, f"{API}STREAM.NAMES", {"subject": "m.x"})["streams"] == ["M"]
    listed = bus.request(ACCOUNT, f"{API}STREAM.LIST", b"")
    assert [s["config"]["name"] for s in listed["streams"]] == ["M", "ORDERS"]
    for i in range(4):
        bus.request(ACCOUNT, f"orders.{i}", b"x")
    assert bus.request(ACCOUNT, f"{API}STREAM.MSG.DELETE.ORDERS", {"seq": 2}) == {
        "type": "io.nats.jetstream.api.v1.stream_msg_delete_response",
        "success": True,
    }
    again = bus.request(ACCOUNT, f"{API}STREAM.MSG.DELETE.ORDERS", {"seq": 2})
    assert again["error"] == {"code": 400, "err_code": 10043, "description": "sequence 2 not found"}
    assert bus.request(ACCOUNT, f"{API}STREAM.INFO.ORDERS")["state"]["num_deleted"] == 1
    purged = bus.request(ACCOUNT, f"{API}STREAM.PURGE.ORDERS", {"keep": 1})
    assert (purged["success"], purged["purged"]) == (True, 2)
    updated = bus.request(
        ACCOUNT, f"{API}STREAM.UPDATE.ORDERS", {"name": "ORDERS", "subjects": ["orders.>", "o2.>"]}
    )
    assert updated["config"]["subjects"] == ["orders.>", "o2.>"]
    assert bus.request(ACCOUNT, "o2.x", b"y")["seq"] == 5
    storage = bus.request(
        ACCOUNT, f"{API}STREAM.UPDATE.ORDERS", {"name": "ORDERS", "storage": "memory"}
    )
    assert (
        storage["error"]["description"] == "stream configuration update can not change storage type"
    )
    deleted = bus.request(ACCOUNT, f"{API}STREAM.DELETE.ORDERS")
    assert deleted["success"] is True
    assert bus.request(ACCOUNT, f"{API}STREAM.DELETE.ORDERS")["error"]["err_code"] == 10059
    assert not bus.has_responder(ACCOUNT, "orders.1")
    assert bus.request(ACCOUNT, f"{API}STREAM.BOGUS.X") is None  # nats-server stays silent
    info = bus.request(ACCOUNT, f"{API}INFO")
    assert (info["streams"], info["api"]["level"]) == (1, 5)


def test_account_without_jetstream_gets_503_10039(make_js) -> None:
    js, bus = make_js()
    js.enable_account("ANOTHER", None)
    for subject in (f"{API}INFO", f"{API}STREAM.CREATE.X", f"{API}STREAM.NAMES"):
        answer = bus.request("ANOTHER", subject)
        assert answer["error"] == {
            "code": 503,
            "err_code": 10039,
            "description": "JetStream not enabled for account",
        }
    assert bus.request("ANOTHER", f"{API}INFO")["type"].endswith("account_info_response")


def test_account_limits(make_js) -> None:
    limits = JsLimits(max_memory=0, max_storage=1000, max_streams=1, max_consumers=1)
    js, bus = make_js(limits=limits)
    # codes as nats-server 2.15 answers (tests/e2e/test_js_operator.py compares them live)
    assert create(bus, "M", subjects=["m"], storage="memory")["error"]["err_code"] == 10028
    assert create(bus)["did_create"]
    assert create(bus, "TWO", subjects=["two"])["error"]["err_code"] == 10027
    body = {"stream_name": "ORDERS", "config": {"durable_name": "a"}}
    assert "error" not in bus.request(ACCOUNT, f"{API}CONSUMER.CREATE.ORDERS.a", body)
    body = {"stream_name": "ORDERS", "config": {"durable_name": "b"}}
    assert (
        bus.request(ACCOUNT, f"{API}CONSUMER.CREATE.ORDERS.b", body)["error"]["err_code"] == 10026
    )
    acks = [bus.request(ACCOUNT, "orders.x", b"y" * 100) for _ in range(10)]
    assert "error" in acks[-1] and acks[-1]["error"]["err_code"] == 10002
    assert bus.request(ACCOUNT, f"{API}INFO")["storage"] <= 1000


def test_everything_on_disk_is_sealed_and_survives_restart(make_js, tmp_path: Path) -> None:
    js, bus = make_js(block_size=400)
    create(bus, subjects=["orders.secret-subject.>"])
    body = {
        "stream_name": "ORDERS",
        "config": {"durable_name": "dur-secret", "ack_policy": "explicit"},
    }
    bus.request(ACCOUNT, f"{API}CONSUMER.CREATE.ORDERS.dur-secret", body)
    for i in range(20):
        ack = bus.request(
            ACCOUNT, f"orders.secret-subject.{i}", b"payload-secret-%d" % i, {"X-Hdr-Secret": "v"}
        )
        assert ack["seq"] == i + 1
    js.stop()
    for path in (tmp_path / "store").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in (b"payload-secret", b"secret-subject", b"X-Hdr-Secret", b"ack_policy"):
                assert needle not in data, (needle, path)
    js2, bus2 = make_js()
    info = bus2.request(ACCOUNT, f"{API}STREAM.INFO.ORDERS")
    assert (info["state"]["messages"], info["state"]["last_seq"]) == (20, 20)
    assert info["config"]["subjects"] == ["orders.secret-subject.>"]
    got = bus2.request(ACCOUNT, f"{API}STREAM.MSG.GET.ORDERS", {"seq": 20})["message"]
    assert base64.b64decode(got["data"]) == b"payload-secret-19"
    assert bus2.request(ACCOUNT, f"{API}CONSUMER.INFO.ORDERS.dur-secret")["num_pending"] == 20
    assert bus2.request(ACCOUNT, "orders.secret-subject.x", b"more")["seq"] == 21
    js2.stop()
    _, bus3 = make_js(key=b"another key")  # refused clearly, the account keeps working
    error = bus3.request(ACCOUNT, f"{API}STREAM.INFO.ORDERS")["error"]
    assert error["err_code"] == 10194 and "different jetstream key" in error["description"]
    assert "error" not in create(bus3, name="FRESH", subjects=["fresh.>"])


def test_control_store_without_cipher_is_readable(make_js, tmp_path: Path) -> None:
    js, bus = make_js(cipher=None)
    create(bus)
    bus.request(ACCOUNT, "orders.1", b"payload-in-clear")
    js.stop()
    blob = b"".join(p.read_bytes() for p in (tmp_path / "store").rglob("*.blk"))
    assert b"payload-in-clear" in blob and b"orders.1" in blob


def test_flipped_byte_in_a_block_loses_that_message_only(make_js, tmp_path: Path, caplog) -> None:
    js, bus = make_js()
    create(bus)
    for i in range(5):
        bus.request(ACCOUNT, "orders.1", b"message %d" % i)
    js.stop()
    block = next((tmp_path / "store").rglob("1.blk"))
    data = bytearray(block.read_bytes())
    data[len(data) // 2] ^= 0x40
    block.write_bytes(bytes(data))
    _, bus = make_js()
    assert "1.blk: skipped" in caplog.text and "lost message 3" in caplog.text
    state = bus.request(ACCOUNT, f"{API}STREAM.INFO.ORDERS")["state"]
    assert (state["messages"], state["last_seq"]) == (4, 5)


@given(st.text(min_size=1, max_size=20), st.text(max_size=10), st.integers(1, 2**64 - 1))
def test_the_precomputed_ack_is_the_encoded_ack(name: str, domain: str, seq: int) -> None:
    # the engine appends `<seq>}` to ack_prefix instead of encoding each ack
    ack = {"stream": name} | ({"domain": domain} if domain else {}) | {"seq": seq}
    assert ack_prefix(name, domain) + b"%d}" % seq == go_json(ack).encode()
