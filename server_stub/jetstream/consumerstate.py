"""Where a consumer stands in its stream, and what it reports and saves of that.

The start sequence of each deliver policy, `num_pending` (what is still to be delivered once)
and how far the scan got (heartbeats' `Nats-Last-Stream`), the CONSUMER.INFO body, and the
durable state a file consumer saves after each change and resumes from at start-up.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

from nscpy.jwt.subject import subject_matches
from server_stub.jetstream.acks import AckTracker, Pending
from server_stub.jetstream.consumerconfig import ConsumerConfig
from server_stub.jetstream.delivery import PullRequest
from server_stub.jetstream.memstore import MemStore
from server_stub.jetstream.stream import Stream
from server_stub.jetstream.wire import go_time


class Consumer(Protocol):
    """What these functions read and restore of a `consumer.Consumer` (which calls them, so
    this module does not import it)."""

    stream: Stream
    config: ConsumerConfig
    created: int
    next_sseq: int
    skip: deque[int]
    delivered: tuple[int, int]
    delivered_at: int
    acks: AckTracker
    waiting: deque[PullRequest]

    @property
    def name(self) -> str:
        """The consumer's name."""
        ...

    def has_interest(self) -> bool:
        """True when someone is subscribed to the deliver subject."""
        ...

    def ack_wait(self, deliveries: int) -> int:
        """How long to wait for an ack of a message delivered `deliveries` times."""
        ...


def start_seq(config: ConsumerConfig, store: MemStore) -> int:
    """The first stream sequence a new consumer delivers, by its deliver policy."""
    policy = config.deliver_policy
    if policy == "new":
        return store.last_seq + 1
    if policy == "last":
        last = (
            store.last_for_subject(config.filter_subjects[0])
            if len(config.filter_subjects) == 1
            else store.get(store.last_seq)
        )
        return last.seq if last is not None else store.last_seq + 1
    if policy == "by_start_sequence":
        return config.opt_start_seq or 1
    if policy == "by_start_time":
        for msg in store.iter_from(store.first_seq):
            if msg.ts >= config.opt_start_time:
                return msg.seq
        return store.last_seq + 1
    return store.first_seq or 1


def _filters_all(consumer: Consumer) -> bool:
    filters = consumer.config.filter_subjects
    return not filters or all(
        any(subject_matches(f, s) for f in filters) for s in consumer.stream.config.subjects
    )


def num_pending(consumer: Consumer) -> int:
    """Messages not yet delivered once that match the filter."""
    store = consumer.stream.store
    start = max(consumer.next_sseq, store.first_seq)
    skipped = sum(1 for seq in consumer.skip if store.get(seq) is not None)
    if start > store.last_seq:
        return skipped
    if _filters_all(consumer) and store.messages == store.last_seq - store.first_seq + 1:
        return skipped + store.last_seq - start + 1
    filters = consumer.config.filter_subjects
    return skipped + sum(
        1
        for m in store.iter_from(start)
        if _filters_all(consumer) or any(subject_matches(f, m.subject) for f in filters)
    )


def scanned_to(consumer: Consumer) -> int:
    """The last stream sequence the consumer has looked at (delivered or skipped by filter)."""
    # nats-server reports how far its scan got: past messages the filter skips, too
    if consumer.skip:
        return consumer.delivered[1]
    store = consumer.stream.store
    start = max(consumer.next_sseq, store.first_seq)
    found = store.next_matching(start, consumer.config.filter_subjects)
    return found.seq - 1 if found is not None else max(store.last_seq, consumer.next_sseq - 1)


def info_json(consumer: Consumer, now: int, *, full_metadata: bool = True) -> dict[str, Any]:
    """The consumer info body (without `type`)."""

    def seqs(pair: tuple[int, int], at: int) -> dict[str, Any]:
        out: dict[str, Any] = {"consumer_seq": pair[0], "stream_seq": pair[1]}
        if at:
            out["last_active"] = go_time(at)
        return out

    acks = consumer.acks
    info: dict[str, Any] = {
        "stream_name": consumer.stream.name,
        "name": consumer.name,
        "created": go_time(consumer.created),
        "config": consumer.config.to_json(full_metadata=full_metadata),
        "delivered": seqs(consumer.delivered, consumer.delivered_at),
        "ack_floor": seqs(acks.floor, acks.acked_at),
        "num_ack_pending": len(acks.pending),
        "num_redelivered": len(acks.redelivered),
        "num_waiting": len(consumer.waiting),
        "num_pending": num_pending(consumer),
    }
    if consumer.has_interest():
        info["push_bound"] = True
    if consumer.config.paused(now):
        info["paused"] = True
        info["pause_remaining"] = consumer.config.pause_until - now
    info["ts"] = go_time(now)
    return info


def state_json(consumer: Consumer) -> dict[str, Any]:
    """What a durable consumer saves of its progress."""
    acks = consumer.acks
    return {
        "next_sseq": consumer.next_sseq,
        "delivered": list(consumer.delivered),
        "ack_floor": list(acks.floor),
        "pending": {str(s): [p.cseq, p.deliveries] for s, p in acks.pending.items()},
        "skip": list(consumer.skip),
        "redelivered": sorted(acks.redelivered),
        "pause_until": consumer.config.pause_until,
    }


def restore(consumer: Consumer, state: dict[str, Any], now: int) -> None:
    """Resume from `state_json`; pending messages are redelivered after a fresh ack_wait."""
    acks = consumer.acks
    consumer.next_sseq = int(state["next_sseq"])
    consumer.delivered = (int(state["delivered"][0]), int(state["delivered"][1]))
    acks.floor = (int(state["ack_floor"][0]), int(state["ack_floor"][1]))
    acks.pending = {
        int(s): Pending(int(v[0]), int(v[1]), now + consumer.ack_wait(int(v[1])))
        for s, v in state["pending"].items()
    }
    consumer.skip = deque(int(seq) for seq in state.get("skip", []))
    acks.redelivered = {int(seq) for seq in state.get("redelivered", [])}
    consumer.config = consumer.config.with_pause(int(state.get("pause_until", 0)))
