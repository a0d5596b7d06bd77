"""Write-behind: the engine's file stores hold MSG records and write each loop iteration's with
one write(2). The rule stays the one of test_faults.py: only what is whole on disk is
acknowledged, and a failed write-out takes its messages back as if never published."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
