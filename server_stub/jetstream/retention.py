"""Interest and work-queue retention: which consumers a stream allows, when a message goes.

Limits retention keeps messages until a limit removes them. A work-queue stream removes a
message once its (only) consumer acknowledges it, and allows one consumer per subject; an
interest stream removes a message once every consumer whose filter matches it has
acknowledged it, and does not keep a message no consumer wants. The rules and texts are
nats-server's; the functions are pure over the Stream and its Consumers.
"""

from __future__ import annotations

from collections.abc import Iterable

from nscpy.jwt.subject import subjects_collide
from server_stub.jetstream import errors
from server_stub.jetstream.consumer import Consumer
from server_stub.jetstream.consumerconfig import ConsumerConfig
from server_stub.jetstream.stream import Stream


def check_consumer(stream: Stream, others: Iterable[Consumer], config: ConsumerConfig) -> None:
    """A new consumer on a work-queue stream: explicit acks, and a subject of its own."""
    if stream.config.retention != "workqueue":
        return
    if config.ack_policy == "none" and not config.deliver_subject:
        raise errors.ApiError(
            400, 10084, "consumer in pull mode requires explicit ack policy on workqueue stream"
        )
    if config.ack_policy != "explicit":
        raise errors.ApiError(400, 10098, "workqueue stream requires explicit ack")
    existing = [c for c in others if c.name != config.name]
    if not existing:
        return
    if not config.filter_subjects:
        raise errors.ApiError(
            400, 10099, "multiple non-filtered consumers not allowed on workqueue stream"
        )
    for other in existing:
        theirs = other.config.filter_subjects
        if not theirs or any(
            subjects_collide(mine, their) for mine in config.filter_subjects for their in theirs
        ):
            raise errors.ApiError(400, 10100, "filtered consumer not unique on workqueue stream")


def retire(stream: Stream, consumers: Iterable[Consumer], seqs: Iterable[int]) -> int:
    """Remove the messages among `seqs` that retention no longer keeps; returns how many."""
    policy = stream.config.retention
    if policy == "limits":
        return 0
    store, gone = stream.store, 0
    interested = list(consumers)
    for seq in seqs:
        msg = store.get(seq)
        if msg is None:
            continue
        wanting = [c for c in interested if c.wants(msg.subject)]
        if all(c.has_acked(seq) for c in wanting):
            gone += store.remove(seq)
    return gone


def retire_all(stream: Stream, consumers: Iterable[Consumer]) -> int:
    """Re-check every message (a consumer went away, or a stream became interest-based)."""
    if stream.config.retention == "limits":
        return 0
    seqs = [m.seq for m in stream.store.iter_from(stream.store.first_seq)]
    return retire(stream, consumers, seqs)
