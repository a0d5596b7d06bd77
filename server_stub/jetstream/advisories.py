"""JetStream advisories and metrics (`$JS.EVENT.>`), as nats-server publishes them.

nats-server publishes each event into the account of the stream or consumer (never to the
system account) and only when a subscription there matches the subject, so an unwatched
event costs no JSON. The builders here are pure: each returns the subject and the fields after
the common `type`, `id`, `timestamp` head, in the Go struct's order; `event` adds the head and
the `domain` tail (omitempty), which is last in every event built here.
"""

from __future__ import annotations

import secrets
from typing import Any

from server_stub.jetstream.wire import go_time

ADVISORY = "$JS.EVENT.ADVISORY"
METRIC = "$JS.EVENT.METRIC"

STREAM_ACTION = "io.nats.jetstream.advisory.v1.stream_action"
CONSUMER_ACTION = "io.nats.jetstream.advisory.v1.consumer_action"
API_AUDIT = "io.nats.jetstream.advisory.v1.api_audit"
MAX_DELIVER = "io.nats.jetstream.advisory.v1.max_deliver"
NAK = "io.nats.jetstream.advisory.v1.nak"
TERMINATED = "io.nats.jetstream.advisory.v1.terminated"
ACK_METRIC = "io.nats.jetstream.metric.v1.consumer_ack"

# the action names nats-server uses, by the subject token of the event
_STREAM_ACTIONS = {"CREATED": "create", "UPDATED": "modify", "DELETED": "delete"}
_CONSUMER_ACTIONS = {"CREATED": "create", "DELETED": "delete"}

Event = tuple[str, str, dict[str, Any]]  # subject, type, the fields after the head


def stream_action(stream: str, what: str) -> Event:
    """A stream was CREATED, UPDATED or DELETED."""
    fields = {"stream": stream, "action": _STREAM_ACTIONS[what]}
    return f"{ADVISORY}.STREAM.{what}.{stream}", STREAM_ACTION, fields


def consumer_action(stream: str, consumer: str, what: str) -> Event:
    """A consumer was CREATED or DELETED (an update sends none, as in nats-server)."""
    fields = {"stream": stream, "consumer": consumer, "action": _CONSUMER_ACTIONS[what]}
    return f"{ADVISORY}.CONSUMER.{what}.{stream}.{consumer}", CONSUMER_ACTION, fields


def event(
    kind: str, fields: dict[str, Any], *, event_id: str, now: int, domain: str
) -> dict[str, Any]:
    """The whole event: Go's TypedEvent head, the fields, then `domain` when set."""
    head: dict[str, Any] = {"type": kind, "id": event_id, "timestamp": go_time(now)}
    return head | fields | ({"domain": domain} if domain else {})


_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SEQ_LIMIT = 62**10


class Nuid:
    """Event ids shaped as nats-server's (NUID: 12 random base62 characters, then a 10
    character sequence that steps by a random increment); unique, not secret."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._prefix = "".join(secrets.choice(_BASE62) for _ in range(12))
        self._seq = secrets.randbelow(_SEQ_LIMIT // 2)
        self._step = 33 + secrets.randbelow(300)

    def next(self) -> str:
        self._seq += self._step
        if self._seq >= _SEQ_LIMIT:
            self._reset()
        digits = []
        seq = self._seq
        for _ in range(10):
            seq, digit = divmod(seq, 62)
            digits.append(_BASE62[digit])
        return self._prefix + "".join(reversed(digits))
