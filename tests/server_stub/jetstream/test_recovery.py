"""Damaged stores: every acknowledged message is served or reported lost, the account keeps working.

Each test fills streams, stops the engine, damages the files the way a bad disk, a careless
operator or an attacker would, starts again and checks three things: what is served is exactly
what was acknowledged, whatever is not served is named in the log, and the account's API answers
(other streams serve, new streams can be created, the damaged one says why it is offline).
"""

from __future__ import annotations

import base64
import functools
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server_stub.jetstream.crypto import make_sealer, master_key
from server_stub.jetstream.filestore import FileStore
from server_stub.jetstream.sealedfile import check_key
from tests.support.jslosses import lost_in_log, unaccounted

from .conftest import ACCOUNT

API = "$JS.API."


def create(bus, name="ORDERS", **config):
    body = {"name": name, "subjects": config.pop("subjects", [name.lower() + ".>"]), **config}
    return bus.request(ACCOUNT, f"{API}STREAM.CREATE.{name}", body)


def fill(bus, stream: str, count: int, size: int = 40) -> dict[int, bytes]:
    acked = {}
    for i in range(count):
        payload = b"%s-%d-" % (stream.encode(), i) + b"p" * size
        ack = bus.request(ACCOUNT, f"{stream.lower()}.{i % 3}", payload)
        acked[ack["seq"]] = payload
    return acked


def served(bus, stream: str):
    def get(seq: int) -> bytes | None:
        answer = bus.request(ACCOUNT, f"{API}STREAM.MSG.GET.{stream}", {"seq": seq})
        if "error" in answer:
            assert answer["error"]["err_code"] == 10037, answer  # missing, not failing
            return None
        return base64.b64decode(answer["message"]["data"])

    return get


def stream_dir(tmp_path: Path, name: str) -> Path:
    return tmp_path / "store" / "jetstream" / ACCOUNT / "streams" / name


def account_still_works(bus) -> None:
    """A new stream can be created and used, and the account's API answers."""
    assert "error" not in create(bus, name="NEWCOMER")
    assert bus.request(ACCOUNT, "newcomer.1", b"hello")["seq"] == 1
    assert "error" not in bus.request(ACCOUNT, f"{API}INFO")


@pytest.fixture
def two_streams(make_js, tmp_path):
    """ORDERS (small segments) and OTHER, filled and stopped cleanly: their acked messages."""
    js, bus = make_js(block_size=600)
    create(bus)
    create(bus, name="OTHER")
    acked = {"ORDERS": fill(bus, "ORDERS", 50), "OTHER": fill(bus, "OTHER", 10)}
    body = {"stream_name": "ORDERS", "config": {"durable_name": "d", "ack_policy": "explicit"}}
    assert "error" not in bus.request(ACCOUNT, f"{API}CONSUMER.CREATE.ORDERS.d", body)
    js.stop()
    return acked


def restart(make_js, caplog, **options):
    """Stop the engine started last (if still running) and start a new one on the same files."""
    for js in _running:
        js.stop()
    _running.clear()
    caplog.clear()
    js, bus = make_js(block_size=600, **options)
    _running.append(js)
    return bus


_running: list = []


@pytest.fixture(autouse=True)
def _forget_engines():
    yield
    _running.clear()  # make_js stops them


def segments(tmp_path: Path) -> list[Path]:
    found = (stream_dir(tmp_path, "ORDERS") / "msgs").glob("*.blk")
    return sorted(found, key=lambda p: int(p.stem))


def test_truncated_newest_segment_after_a_clean_stop_is_reported(
    make_js, tmp_path, two_streams, caplog
) -> None:
    newest = segments(tmp_path)[-1]
    newest.write_bytes(newest.read_bytes()[: newest.stat().st_size // 2])
    bus = restart(make_js, caplog)
    lost = lost_in_log(caplog.text, "ORDERS")
    assert lost and all(last is not None for _, last in lost)  # exact, thanks to the index
    assert unaccounted(two_streams["ORDERS"], served(bus, "ORDERS"), lost) == []
    assert unaccounted(two_streams["OTHER"], served(bus, "OTHER"), []) == []
    account_still_works(bus)
    assert bus.request(ACCOUNT, "orders.1", b"next")["seq"] == 51  # lost seqs are not reused
    bus = restart(make_js, caplog)
    assert lost_in_log(caplog.text, "ORDERS") == []  # reported once, not at every start
    assert bus.request(ACCOUNT, "orders.1", b"after")["seq"] == 52


@pytest.mark.parametrize("cut", ["half", "record boundary", "removed"])
def test_damaged_older_segment_is_reported(make_js, tmp_path, two_streams, caplog, cut) -> None:
    older = segments(tmp_path)[1]
    data = older.read_bytes()
    if cut == "half":
        older.write_bytes(data[: len(data) // 2])
    elif cut == "record boundary":  # no torn record at all: only the next STATE tells
        older.write_bytes(data[: _record_boundaries(data)[2]])
    else:
        older.unlink()
    bus = restart(make_js, caplog)
    lost = lost_in_log(caplog.text, "ORDERS")
    assert lost
    assert unaccounted(two_streams["ORDERS"], served(bus, "ORDERS"), lost) == []
    if cut == "removed":
        assert "segment file 2.blk is missing" in caplog.text
    account_still_works(bus)


def _record_boundaries(data: bytes) -> list[int]:
    offsets, pos = [], 0
    while pos < len(data):
        offsets.append(pos)
        pos += 12 + int.from_bytes(data[pos + 4 : pos + 8], "big")
    return offsets


def test_every_flipped_byte_in_a_segment_loses_only_what_it_hit(
    make_js, tmp_path, two_streams, caplog
) -> None:
    target = segments(tmp_path)[2]
    original = target.read_bytes()
    for offset in range(0, len(original), 7):
        damaged = bytearray(original)
        damaged[offset] ^= 0x20
        target.write_bytes(bytes(damaged))
        bus = restart(make_js, caplog)
        lost = lost_in_log(caplog.text, "ORDERS")
        assert unaccounted(two_streams["ORDERS"], served(bus, "ORDERS"), lost) == []
        assert all(last is not None and last - first < 3 for first, last in lost), lost
    target.write_bytes(original)


def test_damaged_meta_inf_takes_only_that_stream_offline(
    make_js, tmp_path, two_streams, caplog
) -> None:
    meta = stream_dir(tmp_path, "ORDERS") / "meta.inf"
    data = bytearray(meta.read_bytes())
    data[len(data) // 2] ^= 0xFF
    meta.write_bytes(bytes(data))
    bus = restart(make_js, caplog)
    assert "'$G > ORDERS' is offline" in caplog.text and "meta.inf" in caplog.text
    for subject, body in [
        (f"{API}STREAM.INFO.ORDERS", {}),
        (f"{API}STREAM.MSG.GET.ORDERS", {"seq": 1}),
        (f"{API}CONSUMER.INFO.ORDERS.d", {}),
        (f"{API}STREAM.CREATE.ORDERS", {"name": "ORDERS", "subjects": ["orders.>"]}),
    ]:
        error = bus.request(ACCOUNT, subject, body)["error"]
        assert (error["code"], error["err_code"]) == (500, 10194), subject
        assert error["description"].startswith("stream is offline: ")
        assert "meta.inf: damaged file" in error["description"]
        assert str(tmp_path) not in error["description"]
    assert (stream_dir(tmp_path, "ORDERS") / "msgs").is_dir()  # kept for the operator
    listed = bus.request(ACCOUNT, f"{API}STREAM.LIST")
    assert [s["config"]["name"] for s in listed["streams"]] == ["OTHER"]
    assert list(listed["offline"]) == ["ORDERS"] and "meta.inf" in listed["offline"]["ORDERS"]
    assert unaccounted(two_streams["OTHER"], served(bus, "OTHER"), []) == []
    account_still_works(bus)
    deleted = bus.request(ACCOUNT, f"{API}STREAM.DELETE.ORDERS")
    assert deleted == {"type": "io.nats.jetstream.api.v1.stream_delete_response", "success": True}
    assert not stream_dir(tmp_path, "ORDERS").exists()
    assert "error" not in create(bus)  # the name is free again


def test_wrong_key_takes_old_streams_offline_and_new_ones_work(
    make_js, tmp_path, two_streams, caplog
) -> None:
    bus = restart(make_js, caplog, key=b"not the key")
    for name in ("ORDERS", "OTHER"):
        error = bus.request(ACCOUNT, f"{API}STREAM.INFO.{name}")["error"]
        assert error["err_code"] == 10194 and "different jetstream key" in error["description"]
    account_still_works(bus)
    names = bus.request(ACCOUNT, f"{API}STREAM.NAMES")["streams"]
    assert names == ["NEWCOMER"]


@pytest.mark.parametrize("damage", ["removed", "flipped"])
def test_a_lost_or_damaged_index_costs_precision_only(
    make_js, tmp_path, two_streams, caplog, damage
) -> None:
    index = stream_dir(tmp_path, "ORDERS") / "msgs" / "index"
    if damage == "removed":
        index.unlink()
    else:
        data = bytearray(index.read_bytes())
        data[-3] ^= 0x10
        index.write_bytes(bytes(data))
    bus = restart(make_js, caplog)
    assert lost_in_log(caplog.text, "ORDERS") == []
    assert ("ignoring" in caplog.text) == (damage == "flipped")
    assert unaccounted(two_streams["ORDERS"], served(bus, "ORDERS"), []) == []
    assert index.exists()  # written again at start


def test_damaged_meta_key_is_rewritten_when_the_key_is_right(
    make_js, tmp_path, two_streams, caplog
) -> None:
    key_file = stream_dir(tmp_path, "ORDERS") / "meta.key"
    key_file.write_bytes(b"garbage")
    bus = restart(make_js, caplog)
    assert "damaged key check file; rewritten" in caplog.text
    assert unaccounted(two_streams["ORDERS"], served(bus, "ORDERS"), []) == []
    key_file.unlink()  # a missing one is treated the same way
    bus = restart(make_js, caplog)
    assert "missing; rewritten" in caplog.text
    assert unaccounted(two_streams["ORDERS"], served(bus, "ORDERS"), []) == []


def test_damaged_consumer_files_cost_only_the_consumer(
    make_js, tmp_path, two_streams, caplog
) -> None:
    consumer = stream_dir(tmp_path, "ORDERS") / "obs" / "d"
    (consumer / "o.dat").write_bytes(b"NJF1 damaged")
    bus = restart(make_js, caplog)
    assert "consumer d of stream '$G > ORDERS' lost its delivery state" in caplog.text
    assert bus.request(ACCOUNT, f"{API}CONSUMER.INFO.ORDERS.d")["num_pending"] == 50
    (consumer / "meta.inf").write_bytes(b"NJF1 damaged")
    bus = restart(make_js, caplog)
    assert "consumer d of stream '$G > ORDERS' is not served" in caplog.text
    assert bus.request(ACCOUNT, f"{API}CONSUMER.INFO.ORDERS.d")["error"]["err_code"] == 10014
    assert unaccounted(two_streams["ORDERS"], served(bus, "ORDERS"), []) == []


def test_offline_stream_does_not_stop_the_engine_or_other_accounts(
    make_js, tmp_path, two_streams, caplog
) -> None:
    (stream_dir(tmp_path, "ORDERS") / "meta.inf").unlink()
    bus = restart(make_js, caplog)
    js = _running[0]
    assert ACCOUNT in js.accounts
    js.enable_account("OTHER_ACCOUNT", js.accounts[ACCOUNT].limits)
    reply = bus.request("OTHER_ACCOUNT", f"{API}STREAM.CREATE.X", {"name": "X"})
    assert "error" not in reply


def test_a_repaired_stream_comes_back_when_the_account_is_enabled_again(
    make_js, tmp_path, two_streams, caplog
) -> None:
    meta = stream_dir(tmp_path, "ORDERS") / "meta.inf"
    original = meta.read_bytes()
    meta.write_bytes(original[:10])
    bus = restart(make_js, caplog)
    assert bus.request(ACCOUNT, f"{API}STREAM.INFO.ORDERS")["error"]["err_code"] == 10194
    meta.write_bytes(original)  # the operator restores it from a backup
    js = _running[0]
    limits = js.accounts[ACCOUNT].limits
    js.disable_account(ACCOUNT)
    js.enable_account(ACCOUNT, limits)
    assert unaccounted(two_streams["ORDERS"], served(bus, "ORDERS"), []) == []


# -- any damage, as a property, at the store --------------------------------------------------
# `make soak-js-faults` runs thousands of damage schedules; the suite runs a bounded number
DAMAGE_EXAMPLES = int(os.environ.get("NSCPY_JS_FAULT_EXAMPLES", "80"))
damage_ops = st.lists(
    st.tuples(
        st.sampled_from(["flip", "truncate", "zero", "remove", "append garbage"]),
        st.integers(0, 20),  # which segment (modulo how many there are)
        st.floats(0, 1),  # where in it
        st.integers(1, 64),  # how many bytes
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=DAMAGE_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.integers(0, 120), min_size=1, max_size=40),
    st.sets(st.integers(1, 40), max_size=5),
    st.booleans(),
    damage_ops,
)
def test_any_damage_is_served_correctly_or_reported(
    tmp_path_factory, sizes, deleted, clean, damage
) -> None:
    directory = tmp_path_factory.mktemp("damage")
    seal = make_sealer("chachapoly", master_key(b"k"), "$G", "S", "stream")
    check_key(directory, seal, "stream S")
    store = FileStore(directory, seal, block_size=400, label="'$G > S'")
    written = {}
    for size in sizes:
        payload = os.urandom(size)
        written[store.append("s", b"", payload, 1).seq] = payload
    for seq in deleted:
        store.remove(seq)
    held = {seq: written[seq] for seq in written if seq not in deleted}
    store.sync()
    if clean:
        store.close()
    else:  # a crash after the engine's last tick (which checkpoints): no clean index
        store.checkpoint()
        os.close(store._fd)
        store._fd = -1
    blocks = sorted((directory / "msgs").glob("*.blk"), key=lambda p: int(p.stem))
    for kind, which, where, length in damage:
        target = blocks[which % len(blocks)]
        if not target.exists():
            continue
        data = bytearray(target.read_bytes())
        at = int(where * len(data))
        if kind == "flip" and data:
            data[min(at, len(data) - 1)] ^= 0xFF
        elif kind == "truncate":
            del data[at:]
        elif kind == "zero":
            data[at : at + length] = bytes(len(data[at : at + length]))
        elif kind == "append garbage":
            data += os.urandom(length)
        if kind == "remove":
            target.unlink()
        else:
            target.write_bytes(bytes(data))
    again = FileStore(directory, seal, block_size=400, label="'$G > S'")
    for msg in again.iter_from(0):
        assert msg.data == written[msg.seq]  # damage never changes what is served
    assert unaccounted(held, functools.partial(_data, again), again.lost) == []
    again.close()


def _data(store: FileStore, seq: int) -> bytes | None:
    msg = store.get(seq)
    return None if msg is None else msg.data
