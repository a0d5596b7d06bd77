"""Write-behind: the engine's file stores hold MSG records and write each loop iteration's with
one write(2). The rule stays the one of test_faults.py: only what is whole on disk is
acknowledged, and a failed write-out takes its messages back as if never published."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server_stub.jetstream.crypto import make_sealer
from server_stub.jetstream.filestore import FileStore

from .conftest import ACCOUNT
from .test_faults import EXAMPLES, create, fault_op, run_fault_schedule, served


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
    run_fault_schedule(tmp_path_factory.mktemp("faults"), steps, seed, write_behind=True)


store_ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(["s.a", "s.bb"]), st.binary(max_size=60)),
        st.tuples(st.just("add"), st.just("s.h"), st.just(b"NATS/1.0\r\nA: b\r\n\r\n")),
        st.tuples(st.just("del"), st.integers(1, 30)),
        st.tuples(st.just("floor"), st.integers(1, 30)),
        st.tuples(st.just("write_out")),
        st.tuples(st.just("sync")),
        st.tuples(st.just("reopen")),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(store_ops)
def test_a_write_behind_store_writes_what_a_direct_one_writes(tmp_path_factory, steps) -> None:
    """FileStore.append's write-behind path (records held, sealed at write-out) against the
    direct one: the same state after every step, the same bytes on disk at the end (without
    a cipher the records are deterministic), across rolls (small segments) and reopens."""
    roots = [tmp_path_factory.mktemp("direct"), tmp_path_factory.mktemp("behind")]

    def opened(root, write_behind: bool) -> FileStore:
        seal = make_sealer(None, None, "$G", "S", "stream")
        return FileStore(root, seal, block_size=300, label="S", write_behind=write_behind)

    stores = [opened(roots[0], False), opened(roots[1], True)]
    for step, (op, *args) in enumerate(steps):
        for i, store in enumerate(stores):
            if op == "add":
                hdrs = args[1] if args[0] == "s.h" else b""
                data = b"" if hdrs else args[1]
                store.append(args[0], hdrs, data, 1_000 + step)
            elif op == "del":
                store.remove(args[0])
            elif op == "floor":
                store.remove_below(args[0])
            elif op == "write_out":
                store.write_out()
            elif op == "sync":
                store.sync()
            else:
                store.close()
                stores[i] = opened(roots[i], i == 1)
        direct, behind = stores
        state = [(s.messages, s.first_seq, s.last_seq, s.bytes) for s in stores]
        assert state[0] == state[1]
        assert list(direct.iter_from(0)) == list(behind.iter_from(0))
    for store in stores:
        store.close()
    files = [sorted((p.name, p.read_bytes()) for p in (r / "msgs").glob("*.blk")) for r in roots]
    assert files[0] == files[1]
