"""Pull and push consumers: delivery, acknowledgements, redelivery after ack_wait, requests.

A Consumer never touches the bus: every method returns the messages to send as `Outgoing`
records, and time is passed in as `now` (nanoseconds), so the whole state machine is testable
without sockets or sleeps. Delivered messages carry nats-server's reply subject
`$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp>.<pending>`;
status messages (404 No Messages, 408 Request Timeout, 409 ...) carry `Status` and
`Description` headers, which is what nats-py reads from nats-server's inline status line.
"""

from __future__ import annotations

import heapq
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nscpy.jwt.subject import subject_matches
from server_stub.jetstream.consumerconfig import ConsumerConfig
from server_stub.jetstream.memstore import StoredMsg
from server_stub.jetstream.stream import Stream
from server_stub.jetstream.wire import decode_headers, go_time

__all__ = ["Consumer", "ConsumerConfig", "Outgoing", "status"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message for the engine to publish: to `to`, shown with `subject` where that differs."""

    to: str
    payload: bytes = b""
    reply: str | None = None
    headers: dict[str, str] | None = None
    subject: str | None = None  # the stream subject of a delivered message


def status(to: str, code: int, text: str, extra: dict[str, str] | None = None) -> Outgoing:
    """A status message as nats-server sends to pull requests."""
    headers = {"Status": str(code), "Description": text}
    headers.update(extra or {})
    return Outgoing(to=to, headers=headers)


@dataclass(slots=True)
class _Pending:
    cseq: int
    deliveries: int
    deadline: int


@dataclass(slots=True)
class _Request:
    reply: str
    batch: int
    expires_at: int  # 0: no expiry
    no_wait: bool


class Consumer:
    """One consumer on a stream: pull requests wait in `waiting`; a push consumer is served as
    one endless request to its deliver subject while someone is subscribed there."""

    def __init__(self, stream: Stream, config: ConsumerConfig, created: int, now: int) -> None:
        self.stream = stream
        self.config = config
        self.created = created
        store = stream.store
        start = {"all": store.first_seq or 1, "new": store.last_seq + 1}
        start["last"] = store.last_seq or 1
        start["by_start_sequence"] = config.opt_start_seq or 1
        self.next_sseq = start[config.deliver_policy]  # next stream seq for a first delivery
        self.delivered = (0, 0)  # (consumer seq, stream seq) of the newest delivery
        self.ack_floor = (0, 0)
        self.delivered_at = 0
        self.acked_at = 0
        self.last_active = now
        self.pending: dict[int, _Pending] = {}
        self._redeliver: list[int] = []  # heap of stream seqs due for redelivery
        self._queued: set[int] = set()
        self.waiting: deque[_Request] = deque()
        self.dirty = False  # durable state changed since last saved
        # set by the engine: is anyone subscribed to the deliver subject (push consumers)?
        self.has_interest: Callable[[], bool] = lambda: True
        self._last_push = now  # last delivery or heartbeat to the deliver subject

    @property
    def name(self) -> str:
        """The consumer's name."""
        return self.config.name

    def _filters_all(self) -> bool:
        filters = self.config.filter_subjects
        return not filters or all(
            any(subject_matches(f, s) for f in filters) for s in self.stream.config.subjects
        )

    def num_pending(self) -> int:
        """Messages not yet delivered once that match the filter."""
        store = self.stream.store
        start = max(self.next_sseq, store.first_seq)
        if start > store.last_seq:
            return 0
        if self._filters_all() and store.messages == store.last_seq - store.first_seq + 1:
            return store.last_seq - start + 1
        filters = self.config.filter_subjects
        return sum(
            1
            for m in store.iter_from(start)
            if self._filters_all() or any(subject_matches(f, m.subject) for f in filters)
        )

    # -- pulling -------------------------------------------------------------------------
    def pull(self, reply: str, body: dict[str, Any], now: int) -> list[Outgoing]:
        """Handle CONSUMER.MSG.NEXT: deliver what is available, then wait or answer a status."""
        self.last_active = now
        if self.config.deliver_subject:
            return [status(reply, 409, "Consumer is push based")]
        batch = int(body.get("batch") or 1)
        expires = int(body.get("expires") or 0)
        no_wait = bool(body.get("no_wait", False))
        if batch <= 0:
            return [status(reply, 400, "Bad Request")]
        if len(self.waiting) >= self.config.max_waiting:
            return [status(reply, 409, "Exceeded MaxWaiting")]
        request = _Request(reply, batch, now + expires if expires else 0, no_wait)
        out = self._serve(request, now)
        if request.batch > 0:
            if no_wait:
                out.append(status(reply, 404, "No Messages"))
            else:
                self.waiting.append(request)
        return out

    def _serve(self, request: _Request, now: int) -> list[Outgoing]:
        out: list[Outgoing] = []
        while request.batch > 0:
            msg = self._next_message(now)
            if msg is None:
                break
            out.append(self._deliver(request.reply, msg, now))
            request.batch -= 1
        return out

    def _next_message(self, now: int) -> tuple[StoredMsg, bool] | None:
        store = self.stream.store
        while self._redeliver:
            seq = heapq.heappop(self._redeliver)
            self._queued.discard(seq)
            msg = store.get(seq)
            if msg is not None and seq in self.pending:
                return msg, True
            self.pending.pop(seq, None)
        ack_limit = self.config.max_ack_pending
        if self.config.ack_policy != "none" and 0 < ack_limit <= len(self.pending):
            return None
        found = store.next_matching(
            max(self.next_sseq, store.first_seq), self.config.filter_subjects
        )
        if found is None:
            return None
        self.next_sseq = found.seq + 1
        return found, False

    def _deliver(self, to: str, item: tuple[StoredMsg, bool], now: int) -> Outgoing:
        msg, again = item
        cseq = self.delivered[0] + 1
        entry = self.pending.get(msg.seq)
        deliveries = entry.deliveries + 1 if (again and entry) else 1
        if self.config.ack_policy != "none":
            self.pending[msg.seq] = _Pending(cseq, deliveries, now + self.config.ack_wait)
        self.delivered = (cseq, max(self.delivered[1], msg.seq))
        if self.config.ack_policy == "none":
            self.ack_floor = self.delivered
        self.delivered_at = now
        self.dirty = True
        reply = (
            f"$JS.ACK.{self.stream.name}.{self.name}.{deliveries}.{msg.seq}.{cseq}."
            f"{msg.ts}.{self.num_pending()}"
        )
        return Outgoing(
            to=to,
            payload=msg.data,
            reply=reply,
            headers=decode_headers(msg.hdrs),
            subject=msg.subject,
        )

    # -- acks ----------------------------------------------------------------------------
    def on_ack(self, subject: str, body: bytes, now: int) -> list[Outgoing]:
        """Handle a `$JS.ACK...` message (+ACK, -NAK, +WPI, +TERM, +NXT, empty = ack)."""
        tokens = subject.split(".")
        if len(tokens) < 9:
            return []
        try:
            sseq = int(tokens[5])
        except ValueError:
            return []
        self.last_active = now
        verb = body.split(b" ", 1)[0].strip() or b"+ACK"
        entry = self.pending.get(sseq)
        if entry is None:
            return []
        if verb in (b"+ACK", b"+NXT"):
            self._ack(sseq, now)
        elif verb == b"-NAK":
            delay = _nak_delay(body)
            if delay:
                entry.deadline = now + delay
            else:
                self._queue_redelivery(sseq)
        elif verb == b"+WPI":
            entry.deadline = now + self.config.ack_wait
        elif verb == b"+TERM":
            del self.pending[sseq]
            self._update_floor(now)
        self.dirty = True
        return self._serve_waiting(now)

    def _ack(self, sseq: int, now: int) -> None:
        if self.config.ack_policy == "all":
            for seq in [s for s in self.pending if s <= sseq]:
                del self.pending[seq]
        else:
            del self.pending[sseq]
        self._update_floor(now)

    def _update_floor(self, now: int) -> None:
        self.acked_at = now
        if not self.pending:
            self.ack_floor = self.delivered
            return
        low = min(self.pending)
        self.ack_floor = (self.pending[low].cseq - 1, low - 1)

    def _queue_redelivery(self, sseq: int) -> None:
        if sseq not in self._queued:
            self._queued.add(sseq)
            heapq.heappush(self._redeliver, sseq)

    # -- time ----------------------------------------------------------------------------
    def tick(self, now: int) -> list[Outgoing]:
        """Redeliver after ack_wait, expire pull requests, then serve what waits."""
        max_deliver = self.config.max_deliver
        for sseq, entry in list(self.pending.items()):
            if entry.deadline <= now and sseq not in self._queued:
                if 0 < max_deliver <= entry.deliveries:
                    continue  # stays pending, never redelivered, like nats-server
                self._queue_redelivery(sseq)
        out = self._serve_waiting(now)
        beat = self.config.idle_heartbeat
        if beat and now - self._last_push >= beat and self.has_interest():
            self._last_push = now
            last = {
                "Nats-Last-Consumer": str(self.delivered[0]),
                "Nats-Last-Stream": str(self._scanned_to()),
            }
            out.append(status(self.config.deliver_subject, 100, "Idle Heartbeat", last))
        kept: deque[_Request] = deque()
        for request in self.waiting:
            if request.expires_at and request.expires_at <= now:
                out.append(
                    status(
                        request.reply,
                        408,
                        "Request Timeout",
                        {"Nats-Pending-Messages": str(request.batch), "Nats-Pending-Bytes": "0"},
                    )
                )
            else:
                kept.append(request)
        self.waiting = kept
        return out

    def _scanned_to(self) -> int:
        # nats-server reports how far its scan got: past messages the filter skips, too
        store = self.stream.store
        start = max(self.next_sseq, store.first_seq)
        found = store.next_matching(start, self.config.filter_subjects)
        return found.seq - 1 if found is not None else max(store.last_seq, self.next_sseq - 1)

    def on_new_messages(self, now: int) -> list[Outgoing]:
        """The stream stored something: hand it to waiting pull requests."""
        return self._serve_waiting(now)

    def _serve_waiting(self, now: int) -> list[Outgoing]:
        out: list[Outgoing] = []
        while self.waiting:
            request = self.waiting[0]
            out.extend(self._serve(request, now))
            if request.batch > 0:
                break
            self.waiting.popleft()
        deliver = self.config.deliver_subject
        if deliver and self.has_interest():
            # nats-server holds a push consumer's messages until someone subscribes
            pushed = self._serve(_Request(deliver, 1 << 62, 0, False), now)
            if pushed:
                self._last_push = now
            out.extend(pushed)
        return out

    def is_inactive(self, now: int) -> bool:
        """True when an ephemeral (or thresholded) consumer has been idle past its threshold."""
        limit = self.config.inactive_threshold
        if self.config.deliver_subject and self.has_interest():
            self.last_active = now  # a bound push consumer is in use
        return bool(limit) and not self.waiting and now - self.last_active > limit

    def close(self) -> list[Outgoing]:
        """The consumer is going away: tell every waiting request."""
        out = [status(r.reply, 409, "Consumer Deleted") for r in self.waiting]
        self.waiting.clear()
        return out

    # -- info and persistence --------------------------------------------------------------
    def info_json(self, now: int, *, full_metadata: bool = True) -> dict[str, Any]:
        """The consumer info body (without `type`)."""

        def seqs(pair: tuple[int, int], at: int) -> dict[str, Any]:
            out: dict[str, Any] = {"consumer_seq": pair[0], "stream_seq": pair[1]}
            if at:
                out["last_active"] = go_time(at)
            return out

        return (
            {
                "stream_name": self.stream.name,
                "name": self.name,
                "created": go_time(self.created),
                "config": self.config.to_json(full_metadata=full_metadata),
                "delivered": seqs(self.delivered, self.delivered_at),
                "ack_floor": seqs(self.ack_floor, self.acked_at),
                "num_ack_pending": len(self.pending),
                "num_redelivered": sum(1 for p in self.pending.values() if p.deliveries > 1),
                "num_waiting": len(self.waiting),
                "num_pending": self.num_pending(),
            }
            | ({"push_bound": True} if self._bound() else {})
            | {"ts": go_time(now)}
        )

    def _bound(self) -> bool:
        return bool(self.config.deliver_subject) and self.has_interest()

    def state_json(self) -> dict[str, Any]:
        """What a durable consumer saves of its progress."""
        return {
            "next_sseq": self.next_sseq,
            "delivered": list(self.delivered),
            "ack_floor": list(self.ack_floor),
            "pending": {str(s): [p.cseq, p.deliveries] for s, p in self.pending.items()},
        }

    def restore(self, state: dict[str, Any], now: int) -> None:
        """Resume from `state_json`; pending messages are redelivered after a fresh ack_wait."""
        self.next_sseq = int(state["next_sseq"])
        self.delivered = (int(state["delivered"][0]), int(state["delivered"][1]))
        self.ack_floor = (int(state["ack_floor"][0]), int(state["ack_floor"][1]))
        deadline = now + self.config.ack_wait
        self.pending = {
            int(s): _Pending(int(v[0]), int(v[1]), deadline) for s, v in state["pending"].items()
        }


def _nak_delay(body: bytes) -> int:
    _, _, rest = body.partition(b" ")
    if not rest.strip():
        return 0
    try:
        value = json.loads(rest)
    except ValueError:
        return 0
    delay = value.get("delay", 0) if isinstance(value, dict) else 0
    return int(delay) if isinstance(delay, int) else 0
