"""Write-behind: the engine's file stores hold MSG records and write each loop iteration's with
one write(2). The rule stays the one of test_faults.py: only what is whole on disk is
acknowledged, and a failed write-out takes its messages back as if never published."""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server_stub.jetstream.crypto import make_sealer, master_key
from server_stub.jetstream.errors import StoreWriteFailed
from server_stub.jetstream.filestore import FileStore
from server_stub.jetstream.sealedfile import check_key

from .conftest import ACCOUNT, Disk
from .test_faults import EXAMPLES, create, fault_op, served


class HeldLoop:
    """Just enough of an event loop for the engine: call_soon callbacks run when told."""

    def __init__(self) -> None:
        self.soon: list = []

    def call_soon(self, callback) -> None:
        self.soon.append(callback)

    def call_later(self, delay, callback):
        return self  # the tick is driven by hand here; cancel() is all a handle needs

    def cancel(self) -> None:
        pass

    def run_soon(self) -> None:
        soon, self.soon = self.soon, []
        for callback in soon:
            callback()


def publish(bus, subject: str, payload: bytes, reply: str, msg_id: str = "") -> None:
    headers = {"Nats-Msg-Id": msg_id} if msg_id else None
    bus.publish(ACCOUNT, subject, payload, reply=reply, headers=headers)


def answer(bus, reply: str) -> dict:
    (msg,) = bus.take(reply)
    return json.loads(msg.payload)


def test_one_write_per_iteration_and_acks_only_after_it(make_js, disk) -> None:
    loop = HeldLoop()
    js, bus = make_js(loop=loop)
    create(bus)
    before = disk.writes
    for i in range(5):
        publish(bus, "orders.1", b"m%d" % i, f"_INBOX.t.{i}")
    assert disk.writes == before and bus.take("_INBOX.t.0") == []  # held: not written, not acked
    loop.run_soon()
    assert disk.writes == before + 1  # five records, one write
    assert [answer(bus, f"_INBOX.t.{i}")["seq"] for i in range(5)] == [1, 2, 3, 4, 5]


def test_a_failed_write_out_refuses_exactly_its_acks_and_takes_the_seqs_back(make_js, disk) -> None:
    loop = HeldLoop()
    js, bus = make_js(loop=loop)
    create(bus)
    publish(bus, "orders.1", b"kept", "_INBOX.t.kept")
    loop.run_soon()
    assert answer(bus, "_INBOX.t.kept")["seq"] == 1
    for i in range(3):
        publish(bus, "orders.1", b"lost %d" % i, f"_INBOX.t.{i}", msg_id=f"id-{i}")
    publish(bus, "orders.1", b"dup", "_INBOX.t.dup", msg_id="id-1")  # a duplicate of a held one
    disk.full = True
    loop.run_soon()
    for reply in ("_INBOX.t.0", "_INBOX.t.1", "_INBOX.t.2", "_INBOX.t.dup"):
        refused = answer(bus, reply)
        assert refused["error"]["err_code"] == 10077, reply
        assert "No space left on device" in refused["error"]["description"]
    disk.full = False
    info = bus.request(ACCOUNT, "$JS.API.STREAM.INFO.ORDERS")["state"]
    assert (info["messages"], info["last_seq"]) == (1, 1)  # as if never published
    publish(bus, "orders.1", b"again", "_INBOX.t.again", msg_id="id-1")  # not a duplicate now
    loop.run_soon()
    assert answer(bus, "_INBOX.t.again") == {"stream": "ORDERS", "seq": 2}
    js.stop()
    _, bus = make_js()
    get = served(bus, "ORDERS")
    assert (get(1), get(2), get(3)) == (b"kept", b"again", None)


write_behind_ops = st.lists(st.one_of(fault_op, st.tuples(st.just("write-out"))), max_size=60)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(write_behind_ops, st.integers(0, 1000))
def test_random_faults_with_write_behind_never_lose_a_synced_message(
    tmp_path_factory, steps, seed
) -> None:
    directory = tmp_path_factory.mktemp("faults")
    seam = Disk(seed)
    seal = make_sealer("chachapoly", master_key(b"k"), "$G", "S", "stream")
    check_key(directory, seal, "stream S")

    def reopen() -> FileStore:
        store = FileStore(directory, seal, block_size=300, label="'$G > S'", write_behind=True)
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
        if op in ("reopen", "crash"):
            if op == "reopen":
                store.close()
            else:  # the process dies: held records and the page cache's fate as in test_faults
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
