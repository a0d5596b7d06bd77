"""JetStream advisories and metrics (`$JS.EVENT.>`), as nats-server publishes them.

nats-server publishes each event into the account of the stream or consumer (never to the
system account) and only when a subscription there matches the subject, so an unwatched
event costs no JSON. The builders here are pure: each returns the subject and the fields after
the common `type`, `id`, `timestamp` head, in the Go struct's order; `event` adds the head and
the `domain` tail (omitempty), which is last in every event built here.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from server_stub.jetstream.wire import go_time

ADVISORY = "$JS.EVENT.ADVISORY"
METRIC = "$JS.EVENT.METRIC"
API_SUBJECT = f"{ADVISORY}.API"

STREAM_ACTION = "io.nats.jetstream.advisory.v1.stream_action"
CONSUMER_ACTION = "io.nats.jetstream.advisory.v1.consumer_action"
CONSUMER_PAUSE = "io.nats.jetstream.advisory.v1.consumer_pause"
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


def consumer_pause(stream: str, consumer: str, paused: bool, until: int) -> Event:
    """A consumer's pause_until changed, or its pause ran out (Go's zero time when unset)."""
    fields = {
        "stream": stream,
        "consumer": consumer,
        "paused": paused,
        "pause_until": go_time(until),
    }
    return f"{ADVISORY}.CONSUMER.PAUSE.{stream}.{consumer}", CONSUMER_PAUSE, fields


def max_deliveries(stream: str, consumer: str, sseq: int, deliveries: int) -> Event:
    """A message was dropped after max_deliver deliveries (a candidate for a dead letter queue)."""
    fields = {"stream": stream, "consumer": consumer, "stream_seq": sseq, "deliveries": deliveries}
    return f"{ADVISORY}.CONSUMER.MAX_DELIVERIES.{stream}.{consumer}", MAX_DELIVER, fields


def ack_sample(
    stream: str, consumer: str, cseq: int, sseq: int, ack_time: int, deliveries: int
) -> Event:
    """An explicit ack sampled by the consumer's sample_freq: how long (ns) it took."""
    fields = {
        "stream": stream,
        "consumer": consumer,
        "consumer_seq": cseq,
        "stream_seq": sseq,
        "ack_time": ack_time,
        "deliveries": deliveries,
    }
    return f"{METRIC}.CONSUMER.ACK.{stream}.{consumer}", ACK_METRIC, fields


def msg_naked(stream: str, consumer: str, cseq: int, sseq: int, deliveries: int) -> Event:
    """A delivered message was -NAKed (sent while it is still pending)."""
    fields = _delivery(stream, consumer, cseq, sseq, deliveries)
    return f"{ADVISORY}.CONSUMER.MSG_NAKED.{stream}.{consumer}", NAK, fields


def msg_terminated(
    stream: str, consumer: str, cseq: int, sseq: int, deliveries: int, reason: str
) -> Event:
    """A delivered message was +TERMed, with the reason that followed the verb if any."""
    fields = _delivery(stream, consumer, cseq, sseq, deliveries)
    if reason:
        fields["reason"] = reason
    return f"{ADVISORY}.CONSUMER.MSG_TERMINATED.{stream}.{consumer}", TERMINATED, fields


def _delivery(stream: str, consumer: str, cseq: int, sseq: int, deliveries: int) -> dict[str, Any]:
    return {
        "stream": stream,
        "consumer": consumer,
        "consumer_seq": cseq,
        "stream_seq": sseq,
        "deliveries": deliveries,
    }


def api_audit(
    server: str, client: dict[str, Any] | None, subject: str, request: bytes, response: bytes
) -> Event:
    """A `$JS.API` request and its answer, as sent (an empty request is left out)."""
    fields: dict[str, Any] = {"server": server, "client": client, "subject": subject}
    if request:  # Go's string(msg): invalid UTF-8 becomes U+FFFD when marshalled
        fields["request"] = request.decode("utf-8", "replace")
    fields["response"] = response.decode("utf-8", "replace")
    return API_SUBJECT, API_AUDIT, fields


def client_info(
    *,
    start: int,
    host: str,
    cid: int,
    account: str,
    user: str,
    name: str,
    lang: str,
    version: str,
    rtt: int,
    server: str,
    issuer_key: str = "",
    name_tag: str = "",
    tags: Sequence[str] = (),
    client_type: str = "nats",
) -> dict[str, Any]:
    """Go's ClientInfo of a client connection as advisories show it: the JWT and alternates
    left out (forAdvisory), empty fields omitted, `start` always there."""
    pairs: list[tuple[str, Any]] = [
        ("host", host),
        ("id", cid),
        ("acc", account),
        ("user", user),
        ("name", name),
        ("lang", lang),
        ("ver", version),
        ("rtt", rtt),
        ("server", server),
        ("issuer_key", issuer_key),
        ("name_tag", name_tag),
        ("tags", list(tags)),
        ("kind", "Client"),
        ("client_type", client_type),
    ]
    return {"start": go_time(start)} | {key: value for key, value in pairs if value}


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
