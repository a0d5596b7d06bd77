"""A full disk and a failing fsync, injected at the file store's write seams (the files are real).

The rule under test: a publish is acknowledged only when its record is whole on disk, a failed
write leaves nothing that spoils recovery, and after a restart every acknowledged message is
served (nothing here is lost, so nothing may be reported lost either).
"""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server_stub.jetstream.crypto import make_sealer, master_key
from server_stub.jetstream.errors import StoreWriteFailed
from server_stub.jetstream.filestore import FileStore
from server_stub.jetstream.sealedfile import check_key
from tests.support.jslosses import lost_in_log, unaccounted

from .conftest import ACCOUNT, Disk

API = "$JS.API."


def create(bus, name="ORDERS", **config):
    body = {"name": name, "subjects": config.pop("subjects", ["orders.>"]), **config}
    return bus.request(ACCOUNT, f"{API}STREAM.CREATE.{name}", body)


def served(bus, stream: str):
    def get(seq: int) -> bytes | None:
        answer = bus.request(ACCOUNT, f"{API}STREAM.MSG.GET.{stream}", {"seq": seq})
        if "error" in answer:
            return None
        return base64.b64decode(answer["message"]["data"])

    return get


def test_disk_full_never_acks_and_every_ack_survives_restart(make_js, disk, caplog) -> None:
    js, bus = make_js(block_size=1500)  # many segment rolls, some while the disk is full
    assert "error" not in create(bus)
    acked: dict[int, bytes] = {}
    refused = 0
    for i in range(400):
        disk.full = 120 <= i < 260  # full for a while, then space is freed
        payload = b"payload %d " % i + b"x" * (i % 90)
        ack = bus.request(ACCOUNT, f"orders.{i % 7}", payload, {"Nats-Msg-Id": f"id-{i}"})
        if "error" in ack:
            assert ack["error"]["err_code"] == 10077 and ack["error"]["code"] == 503
            assert "No space left on device" in ack["error"]["description"]
            refused += 1
        else:
            assert ack["seq"] == len(acked) + 1  # a refused publish takes no sequence
            acked[ack["seq"]] = payload
    assert refused == 140 and disk.failed_writes >= 140 and len(acked) == 260
    assert "failed to store a msg" in caplog.text
    js.stop()
    caplog.clear()
    js, bus = make_js(block_size=1500)
    assert "not a whole record" not in caplog.text and lost_in_log(caplog.text, "ORDERS") == []
    assert unaccounted(acked, served(bus, "ORDERS"), []) == []
    state = bus.request(ACCOUNT, f"{API}STREAM.INFO.ORDERS")["state"]
    assert (state["messages"], state["last_seq"]) == (260, 260)
    # a retried Nats-Msg-Id of a refused publish is stored, not taken for a duplicate
    assert bus.request(ACCOUNT, "orders.1", b"retry", {"Nats-Msg-Id": "id-130"})["seq"] == 261
    assert "error" not in create(bus, name="AFTER", subjects=["after.>"])


def test_create_on_a_full_disk_is_refused_and_leaves_nothing(make_js, disk, tmp_path) -> None:
    js, bus = make_js()
    disk.full = True
    answer = create(bus)
    assert answer["error"]["err_code"] == 10077
    assert "No space left on device" in answer["error"]["description"]
    assert not (tmp_path / "store" / "jetstream" / ACCOUNT / "streams" / "ORDERS").exists()
    assert bus.request(ACCOUNT, "orders.1", b"x") is None  # no stream, no responder
    disk.full = False
    assert "error" not in create(bus)
    assert bus.request(ACCOUNT, "orders.1", b"x")["seq"] == 1
    js.stop()
    _, bus = make_js()  # nothing offline after the refused attempt
    assert bus.request(ACCOUNT, f"{API}STREAM.INFO.ORDERS")["state"]["messages"] == 1


def test_a_write_failing_after_the_append_is_answered_not_acked(make_js, disk) -> None:
    js, bus = make_js()
    create(bus, max_msgs_per_subject=1)  # each publish appends, then deletes the older one
    assert bus.request(ACCOUNT, "orders.1", b"first")["seq"] == 1
    disk.writes_left = 1  # the append fits, the delete record does not
    answer = bus.request(ACCOUNT, "orders.1", b"second")
    assert answer["error"]["err_code"] == 10077  # answered (never a timeout), not acked
    disk.writes_left, disk.full = None, False
    assert bus.request(ACCOUNT, "orders.1", b"third")["seq"] == 3
    js.stop()
    _, bus = make_js()
    assert served(bus, "ORDERS")(3) == b"third"


def test_failed_fsync_never_acks_and_the_stream_turns_read_only(make_js, disk, caplog) -> None:
    js, bus = make_js()
    create(bus)
    create(bus, name="OTHER", subjects=["other.>"])
    acked = {}
    for i in range(5):
        acked[bus.request(ACCOUNT, "orders.1", b"before %d" % i)["seq"]] = b"before %d" % i
    disk.fsync_errors = 1
    refused = bus.request(ACCOUNT, "orders.1", b"unsynced")
    assert refused["error"]["err_code"] == 10077
    assert "read-only until restart" in refused["error"]["description"]
    again = bus.request(ACCOUNT, "orders.1", b"later")
    assert "read-only until restart" in again["error"]["description"]
    purge = bus.request(ACCOUNT, f"{API}STREAM.PURGE.ORDERS", {})
    assert purge["error"]["err_code"] == 10077  # admin writes are refused the same way
    assert bus.request(ACCOUNT, "other.1", b"fine")["seq"] == 1  # other streams go on
    assert "fsync of segment 1 failed" in caplog.text
    js.stop()
    _, bus = make_js()
    assert unaccounted(acked, served(bus, "ORDERS"), []) == []
    assert bus.request(ACCOUNT, "orders.1", b"after restart")["seq"] >= 6


def test_consumer_state_on_a_full_disk_is_logged_once_and_retried(
    make_js, disk, caplog, clock
) -> None:
    caplog.set_level(logging.INFO, "server_stub.jetstream")
    js, bus = make_js()
    create(bus)
    body = {"stream_name": "ORDERS", "config": {"durable_name": "d", "ack_policy": "explicit"}}
    assert "error" not in bus.request(ACCOUNT, f"{API}CONSUMER.CREATE.ORDERS.d", body)
    bus.request(ACCOUNT, "orders.1", b"m")
    inbox = "_INBOX.pull"
    bus.publish(ACCOUNT, f"{API}CONSUMER.MSG.NEXT.ORDERS.d", b'{"batch": 1}', reply=inbox)
    delivered = bus.take(inbox)
    assert delivered
    disk.full = True
    bus.publish(ACCOUNT, delivered[0].reply, b"+ACK")
    for _ in range(5):
        js.tick(clock.advance(0.1))
    assert caplog.text.count("cannot save the state of consumer d") == 1
    disk.full = False
    js.tick(clock.advance(0.1))
    assert "saved the state of consumer d" in caplog.text
    js.stop()
    _, bus = make_js()
    info = bus.request(ACCOUNT, f"{API}CONSUMER.INFO.ORDERS.d")
    assert (info["num_ack_pending"], info["ack_floor"]["stream_seq"]) == (0, 1)


@pytest.mark.parametrize("umask", [0o000, 0o077])
def test_store_files_are_private_whatever_the_umask(make_js, tmp_path: Path, umask) -> None:
    old = os.umask(umask)
    try:
        js, bus = make_js(block_size=400)
        create(bus)
        body = {"stream_name": "ORDERS", "config": {"durable_name": "d", "ack_policy": "explicit"}}
        bus.request(ACCOUNT, f"{API}CONSUMER.CREATE.ORDERS.d", body)
        for i in range(20):
            bus.request(ACCOUNT, "orders.1", b"m%d" % i)
        js.stop()
    finally:
        os.umask(old)
    entries = list((tmp_path / "store").rglob("*"))
    assert len(entries) > 10
    for path in [tmp_path / "store", *entries]:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), (oct(mode), path)


def test_a_planted_temp_file_is_never_written_through(make_js, tmp_path: Path) -> None:
    js, bus = make_js()
    create(bus)
    target = tmp_path / "outside.txt"
    target.write_bytes(b"precious")
    meta = next((tmp_path / "store").rglob("ORDERS/meta.inf"))
    temp = meta.with_name("meta.inf.tmp")
    temp.symlink_to(target)
    body = {"name": "ORDERS", "subjects": ["orders.>"], "description": "changed"}
    assert "error" not in bus.request(ACCOUNT, f"{API}STREAM.UPDATE.ORDERS", body)
    assert target.read_bytes() == b"precious"
    assert not temp.exists() and not temp.is_symlink()
    js.stop()
    _, bus = make_js()
    info = bus.request(ACCOUNT, f"{API}STREAM.INFO.ORDERS")
    assert info["config"]["description"] == "changed"


# -- the same rule as a property, at the store, over random fault schedules ----------------
fault_op = st.one_of(
    st.tuples(st.just("add"), st.integers(0, 200)),
    st.tuples(st.just("del"), st.integers(1, 30)),
    st.tuples(st.just("floor"), st.integers(1, 30)),
    st.tuples(st.sampled_from(["full", "space", "sync", "fsync-fails", "reopen", "crash"])),
)
fault_ops = st.lists(fault_op, max_size=60)


# `make soak-js-faults` runs thousands of schedules; the suite runs a bounded number
EXAMPLES = int(os.environ.get("NSCPY_JS_FAULT_EXAMPLES", "60"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fault_ops, st.integers(0, 1000))
def test_random_faults_never_lose_a_synced_message(tmp_path_factory, steps, seed) -> None:
    run_fault_schedule(tmp_path_factory.mktemp("faults"), steps, seed, write_behind=False)


def run_fault_schedule(
    directory: Path, steps: list[tuple], seed: int, *, write_behind: bool
) -> None:
    """Run a schedule of store operations and disk faults against a model of what must
    survive: every message a successful sync acknowledged is served, unchanged, after any later
    fault, reopen or crash, and nothing is served that was not stored so. Without write-behind
    an append writes at once, so nothing stays held after an operation."""
    seam = Disk(seed)
    seal = make_sealer("chachapoly", master_key(b"k"), "$G", "S", "stream")
    check_key(directory, seal, "stream S")

    def reopen() -> FileStore:
        store = FileStore(
            directory, seal, block_size=300, label="'$G > S'", write_behind=write_behind
        )
        store.write_fd, store.fsync_fd = seam.write, seam.fsync  # type: ignore[method-assign]
        return store

    store = reopen()
    written: dict[int, bytes] = {}  # every payload a seq is stored with (or held for)
    synced: set[int] = set()  # acknowledged: written out, then a sync succeeded
    pending: set[int] = set()  # written out, not synced
    held: set[int] = set()  # appended, not written out
    touched: set[int] = set()  # a delete or floor was attempted: may be gone
    for op, *args in steps:
        try:
            if op == "add":
                payload = os.urandom(args[0])
                seq = store.append("s", b"", payload, 1).seq
                assert seq not in synced | pending | held  # a seq in use is never handed out
                written[seq] = payload
                held.add(seq)
            elif op == "write-out":
                try:
                    store.write_out()
                except StoreWriteFailed as exc:
                    for seq in exc.unwritten:  # never acknowledged; taken back if it can be
                        if store.get(seq) is None:
                            del written[seq]
                    assert set(exc.unwritten) >= held
                    held.clear()
                    raise
                pending |= held
                held.clear()
            elif op == "del":
                touched.add(args[0])
                store.remove(args[0])
            elif op == "floor":
                touched.update(range(1, args[0]))
                store.remove_below(args[0])
            elif op in ("full", "space"):
                seam.full = op == "full"
            elif op == "fsync-fails":
                seam.fsync_errors = 1
            elif op == "sync":
                store.sync()
                synced |= pending | held
                pending.clear()
                held.clear()
        except StoreWriteFailed:
            if not store.holds():  # written, or stranded in a store turned read-only
                held.clear()
            continue
        # another record, a roll or a sync wrote (some of) the held ones first; a roll can
        # write them and then hold the message that caused it
        still = {msg.seq for msg in store._held_msgs}
        pending |= held - still
        held &= still
        assert write_behind or not held  # without write-behind an append writes at once
        if op in ("reopen", "crash"):
            if op == "reopen":
                store.close()
            else:  # the process dies: held records are gone, the page cache keeps what was written
                os.close(store._fd)
                store._fd = -1
            pending.clear()
            held.clear()
            seam.full, seam.fsync_errors = False, 0
            store = reopen()
            assert store.lost == []  # nothing was damaged, so nothing may be reported lost
            assert store.last_seq >= max(synced, default=0)
        for seq in synced - touched:
            msg = store.get(seq)
            assert msg is not None and msg.data == written[seq], seq
        for msg in store.iter_from(0):
            assert msg.data == written[msg.seq]  # nothing served that was not stored so
    store.close()


def test_a_planted_segment_symlink_is_refused_not_followed(make_js, tmp_path: Path) -> None:
    js, bus = make_js(block_size=300)
    create(bus)
    target = tmp_path / "outside.blk"
    target.write_bytes(b"")
    msgs = next((tmp_path / "store").rglob("ORDERS/msgs"))
    for number in range(2, 40):  # wherever the next segment will be
        (msgs / f"{number}.blk").symlink_to(target)
    answers = [bus.request(ACCOUNT, "orders.1", b"m" * 50) for _ in range(20)]
    refused = [a for a in answers if "error" in a]
    assert refused and "cannot open segment 2" in refused[0]["error"]["description"]
    assert target.read_bytes() == b""
