"""Pull and push consumers: delivery, acknowledgements, redelivery, flow control, heartbeats.

A Consumer never touches the bus: every method returns the messages to send as `Outgoing`
records, and time is passed in as `now` (nanoseconds), so the whole state machine is testable
without sockets or sleeps. Delivered messages carry nats-server's reply subject
`$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp>.<pending>`;
status messages (100 Idle Heartbeat / FlowControl Request, 404 No Messages, 408 Request
Timeout, 409 ...) carry `Status` and `Description` headers, which the server writes as
nats-server's inline status line.
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
from server_stub.jetstream.delivery import (
    FlowControl,
    Outgoing,
    PullRequest,
    PullRequestError,
    parse_pull_request,
    read_pull_request,
    status,
)
from server_stub.jetstream.memstore import StoredMsg
from server_stub.jetstream.stream import Stream
from server_stub.jetstream.wire import decode_headers, go_time

__all__ = [
    "Consumer",
    "ConsumerConfig",
    "Outgoing",
    "PullRequestError",
    "parse_pull_request",
    "status",
]


@dataclass(slots=True)
class _Pending:
    cseq: int
    deliveries: int
    deadline: int


class Consumer:
    """One consumer on a stream: pull requests wait in `waiting`; a push consumer is served as
    one endless request to its deliver subject while someone is subscribed there."""

    def __init__(self, stream: Stream, config: ConsumerConfig, created: int, now: int) -> None:
        self.stream = stream
        self.config = config
        self.created = created
        self.next_sseq = self._start_seq()  # next stream seq for a first delivery
        # deliver_policy last_per_subject: the sequences to send first, then resume after them
        self._skip: deque[int] = deque()
        if config.deliver_policy == "last_per_subject":
            self._skip.extend(stream.last_per_subject(config.filter_subjects))
            self.next_sseq = stream.store.last_seq + 1
        self.delivered = (0, 0)  # (consumer seq, stream seq) of the newest delivery
        self.ack_floor = (0, 0)
        self.delivered_at = 0
        self.acked_at = 0
        self.last_active = now
        self.pending: dict[int, _Pending] = {}
        self.redelivered: set[int] = set()  # nats-server's rdc: redelivered and not acked
        self._redeliver: list[int] = []  # heap of stream seqs due for redelivery
        self._queued: set[int] = set()
        self.waiting: deque[PullRequest] = deque()
        self.dirty = False  # durable state changed since last saved
        # set by the engine: does any client subscription match this subject?
        self.interest: Callable[[str], bool] = lambda subject: True
        self._last_push = now  # last delivery or heartbeat to the deliver subject
        # set by the account on interest / work-queue streams: these sequences were acked
        self.on_acked: Callable[[list[int]], None] | None = None
        self.flow: FlowControl | None = None  # push consumers with flow_control
        if config.flow_control:
            self.flow = FlowControl(f"$JS.FC.{stream.name}.{config.name}")

    def _start_seq(self) -> int:
        config, store = self.config, self.stream.store
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

    @property
    def name(self) -> str:
        """The consumer's name."""
        return self.config.name

    def has_interest(self) -> bool:
        """True when someone is subscribed to the deliver subject (push consumers)."""
        return bool(self.config.deliver_subject) and self.interest(self.config.deliver_subject)

    def _filters_all(self) -> bool:
        filters = self.config.filter_subjects
        return not filters or all(
            any(subject_matches(f, s) for f in filters) for s in self.stream.config.subjects
        )

    def num_pending(self) -> int:
        """Messages not yet delivered once that match the filter."""
        store = self.stream.store
        start = max(self.next_sseq, store.first_seq)
        skipped = sum(1 for seq in self._skip if store.get(seq) is not None)
        if start > store.last_seq:
            return skipped
        if self._filters_all() and store.messages == store.last_seq - store.first_seq + 1:
            return skipped + store.last_seq - start + 1
        filters = self.config.filter_subjects
        return skipped + sum(
            1
            for m in store.iter_from(start)
            if self._filters_all() or any(subject_matches(f, m.subject) for f in filters)
        )

    # -- pulling -------------------------------------------------------------------------
    def pull(self, reply: str, body: dict[str, Any], now: int) -> list[Outgoing]:
        """Handle CONSUMER.MSG.NEXT: deliver what is available, then wait or answer a status."""
        self.last_active = now
        config = self.config
        if config.deliver_subject:
            return [status(reply, 409, "Consumer is push based")]
        request = read_pull_request(reply, body, config, now)
        if isinstance(request, Outgoing):
            return [request]
        if len(self.waiting) >= config.max_waiting:
            return [status(reply, 409, "Exceeded MaxWaiting")]
        out = [] if config.paused(now) else self._serve(request, now)
        if request.open():
            if request.no_wait and (request.delivered or not request.expires_at):
                out.append(status(reply, 404, "No Messages"))
            else:  # no_wait with expires and nothing yet: waits for the first messages
                self.waiting.append(request)
        elif request.exhausted and not request.delivered:
            out.append(request.too_big())
        return out

    def _serve(self, request: PullRequest, now: int) -> list[Outgoing]:
        out: list[Outgoing] = []
        while request.open():
            if self.flow is not None and self.flow.stalled():
                break  # stalled until the subscriber answers the flow control request
            msg = self._next_message(now, request)
            if msg is None:
                break
            out.extend(self._deliver(request.reply, msg, now))
            request.batch -= 1
            request.delivered += 1
        return out

    def _next_message(self, now: int, request: PullRequest) -> tuple[StoredMsg, bool] | None:
        store = self.stream.store
        found: tuple[StoredMsg, bool] | None = None
        max_deliver = self.config.max_deliver
        while self._redeliver and found is None:
            seq = self._redeliver[0]
            msg = store.get(seq)
            entry = self.pending.get(seq)
            if msg is not None and entry is not None:
                if not 0 < max_deliver <= entry.deliveries:
                    found = (msg, True)
                    break
            # gone, or delivered max_deliver times: nats-server drops it from pending here
            # (the ack floor stays until the next ack; it still counts as redelivered)
            heapq.heappop(self._redeliver)
            self._queued.discard(seq)
            self.pending.pop(seq, None)
        ack_limit = self.config.max_ack_pending
        if (
            found is None
            and self.config.ack_policy != "none"
            and 0 < ack_limit <= len(self.pending)
        ):
            return None
        while found is None and self._skip:
            msg = store.get(self._skip[0])
            if msg is not None:
                found = (msg, False)
                break
            self._skip.popleft()
        if found is None:
            msg = store.next_matching(
                max(self.next_sseq, store.first_seq), self.config.filter_subjects
            )
            if msg is None:
                return None
            found = (msg, False)
        if request.bytes_left:
            size = self._size(found[0])
            if size > request.bytes_left:
                request.exhausted = True
                return None
            request.bytes_left -= size
            request.exhausted = request.bytes_left == 0  # spent exactly: this one is the last
        msg, again = found
        if again:
            heapq.heappop(self._redeliver)
            self._queued.discard(msg.seq)
        elif self._skip and self._skip[0] == msg.seq:
            self._skip.popleft()
        else:
            self.next_sseq = msg.seq + 1
        return found

    def _size(self, msg: StoredMsg) -> int:
        data = b"" if self.config.headers_only else msg.data
        return len(msg.subject) + len(msg.hdrs) + len(data)

    def _deliver(self, to: str, item: tuple[StoredMsg, bool], now: int) -> list[Outgoing]:
        msg, again = item
        config = self.config
        cseq = self.delivered[0] + 1
        entry = self.pending.get(msg.seq)
        deliveries = entry.deliveries + 1 if (again and entry) else 1
        if deliveries > 1:
            self.redelivered.add(msg.seq)
        if config.ack_policy != "none":
            self.pending[msg.seq] = _Pending(cseq, deliveries, now + self._ack_wait(deliveries))
        self.delivered = (cseq, max(self.delivered[1], msg.seq))
        if config.ack_policy == "none":
            self.ack_floor = self.delivered
            if self.on_acked is not None:  # delivered is acked: retention may drop it
                self.on_acked([msg.seq])
        self.delivered_at = now
        self.dirty = True
        reply = (
            f"$JS.ACK.{self.stream.name}.{self.name}.{deliveries}.{msg.seq}.{cseq}."
            f"{msg.ts}.{self.num_pending()}"
        )
        headers = decode_headers(msg.hdrs)
        payload = msg.data
        if config.headers_only:
            headers = dict(headers or {})
            headers["Nats-Msg-Size"] = str(len(msg.data))
            payload = b""
        out = [Outgoing(to=to, payload=payload, reply=reply, headers=headers, subject=msg.subject)]
        if self.flow is not None:
            size = len(msg.subject) + len(reply) + len(msg.hdrs) + len(payload)
            request = self.flow.delivered(size, config.deliver_subject)
            if request is not None:
                out.append(request)
        return out

    def _ack_wait(self, deliveries: int) -> int:
        backoff = self.config.backoff
        if backoff:
            return backoff[min(deliveries, len(backoff)) - 1]
        return self.config.ack_wait

    # -- flow control --------------------------------------------------------------------
    def on_flow_control(self, subject: str, now: int) -> list[Outgoing]:
        """The subscriber answered a flow control request: deliver what the window allows."""
        if self.flow is None or not self.flow.answered(subject):
            return []  # not the latest request we sent: ignored, as nats-server does
        self.last_active = now
        return self._serve_waiting(now)

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
            entry.deadline = now + self._ack_wait(entry.deliveries)
        elif verb == b"+TERM":
            del self.pending[sseq]
            self.redelivered.discard(sseq)
            self._update_floor(now)
            if self.on_acked is not None:  # terminated counts as done for retention
                self.on_acked([sseq])
        self.dirty = True
        return self._serve_waiting(now)

    def _ack(self, sseq: int, now: int) -> None:
        done = [sseq]
        if self.config.ack_policy == "all":
            done = [s for s in self.pending if s <= sseq]
        for seq in done:
            del self.pending[seq]
            self.redelivered.discard(seq)
        self._update_floor(now)
        if self.on_acked is not None:
            self.on_acked(done)

    def wants(self, subject: str) -> bool:
        """True when this consumer's filter covers `subject` (retention's "interest")."""
        filters = self.config.filter_subjects
        return not filters or any(subject_matches(f, subject) for f in filters)

    def has_acked(self, seq: int) -> bool:
        """True when stream message `seq` was delivered and acknowledged (or needs no ack)."""
        if seq >= self.next_sseq or seq in self.pending or seq in self._skip:
            return False
        return True

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

    # -- pause ---------------------------------------------------------------------------
    def pause(self, until: int, now: int) -> list[Outgoing]:
        """CONSUMER.PAUSE: hold deliveries until `until` (a past time or 0 resumes)."""
        self.config = self.config.with_pause(until if until > now else 0)
        self.dirty = True
        return self._serve_waiting(now)

    # -- time ----------------------------------------------------------------------------
    def tick(self, now: int) -> list[Outgoing]:
        """Redeliver after ack_wait, expire pull requests, send heartbeats, serve what waits."""
        if self.config.pause_until and not self.config.paused(now):
            self.config = self.config.with_pause(0)  # the pause ran out: deliver again
            self.dirty = True
        for sseq, entry in list(self.pending.items()):
            if entry.deadline <= now and sseq not in self._queued:
                self._queue_redelivery(sseq)  # past max_deliver it is dropped when next due
        out = self._serve_waiting(now)
        beat = self.config.idle_heartbeat
        if beat and now - self._last_push >= beat and self.has_interest():
            self._last_push = now
            out.append(self._heartbeat(self.config.deliver_subject))
        kept: deque[PullRequest] = deque()
        for request in self.waiting:
            if request.expires_at and request.expires_at <= now:
                out.append(request.timed_out())
                continue
            if request.heartbeat and request.next_beat <= now:
                request.next_beat = now + request.heartbeat
                out.append(self._heartbeat(request.reply))
            kept.append(request)
        self.waiting = kept
        return out

    def next_deadline(self) -> int:
        """The earliest time a waiting pull request expires or is due a heartbeat (0: none)."""
        times = [r.expires_at for r in self.waiting if r.expires_at]
        times += [r.next_beat for r in self.waiting if r.heartbeat]
        return min(times, default=0)

    def _heartbeat(self, to: str) -> Outgoing:
        extra = {
            "Nats-Last-Consumer": str(self.delivered[0]),
            "Nats-Last-Stream": str(self._scanned_to()),
        }
        if self.flow is not None and self.flow.reply:
            # a flow control request is unanswered: tell the client which reply unblocks us
            extra["Nats-Consumer-Stalled"] = self.flow.reply
        return status(to, 100, "Idle Heartbeat", extra)

    def _scanned_to(self) -> int:
        # nats-server reports how far its scan got: past messages the filter skips, too
        if self._skip:
            return self.delivered[1]
        store = self.stream.store
        start = max(self.next_sseq, store.first_seq)
        found = store.next_matching(start, self.config.filter_subjects)
        return found.seq - 1 if found is not None else max(store.last_seq, self.next_sseq - 1)

    def on_new_messages(self, now: int) -> list[Outgoing]:
        """The stream stored something: hand it to waiting pull requests."""
        return self._serve_waiting(now)

    def _serve_waiting(self, now: int) -> list[Outgoing]:
        out: list[Outgoing] = []
        if self.config.paused(now):
            return out
        while self.waiting:
            request = self.waiting[0]
            if not self.interest(request.reply):
                self.waiting.popleft()  # the requester went away: nats-server drops it
                continue
            out.extend(self._serve(request, now))
            if request.open() and request.no_wait and request.delivered:
                out.append(status(request.reply, 404, "No Messages"))  # a one-shot request
            elif request.open():
                break
            self.waiting.popleft()
            if request.exhausted and not request.delivered:
                out.append(request.too_big())
        deliver = self.config.deliver_subject
        if deliver and self.has_interest():
            # nats-server holds a push consumer's messages until someone subscribes
            pushed = self._serve(PullRequest(deliver, 1 << 62, 0, False), now)
            if pushed:
                self._last_push = now
            out.extend(pushed)
        return out

    def is_inactive(self, now: int) -> bool:
        """True when an ephemeral (or thresholded) consumer has been idle past its threshold."""
        limit = self.config.inactive_threshold
        if self.has_interest():
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

        info: dict[str, Any] = {
            "stream_name": self.stream.name,
            "name": self.name,
            "created": go_time(self.created),
            "config": self.config.to_json(full_metadata=full_metadata),
            "delivered": seqs(self.delivered, self.delivered_at),
            "ack_floor": seqs(self.ack_floor, self.acked_at),
            "num_ack_pending": len(self.pending),
            "num_redelivered": len(self.redelivered),
            "num_waiting": len(self.waiting),
            "num_pending": self.num_pending(),
        }
        if self.has_interest():
            info["push_bound"] = True
        if self.config.paused(now):
            info["paused"] = True
            info["pause_remaining"] = self.config.pause_until - now
        info["ts"] = go_time(now)
        return info

    def state_json(self) -> dict[str, Any]:
        """What a durable consumer saves of its progress."""
        return {
            "next_sseq": self.next_sseq,
            "delivered": list(self.delivered),
            "ack_floor": list(self.ack_floor),
            "pending": {str(s): [p.cseq, p.deliveries] for s, p in self.pending.items()},
            "skip": list(self._skip),
            "redelivered": sorted(self.redelivered),
            "pause_until": self.config.pause_until,
        }

    def restore(self, state: dict[str, Any], now: int) -> None:
        """Resume from `state_json`; pending messages are redelivered after a fresh ack_wait."""
        self.next_sseq = int(state["next_sseq"])
        self.delivered = (int(state["delivered"][0]), int(state["delivered"][1]))
        self.ack_floor = (int(state["ack_floor"][0]), int(state["ack_floor"][1]))
        self.pending = {
            int(s): _Pending(int(v[0]), int(v[1]), now + self._ack_wait(int(v[1])))
            for s, v in state["pending"].items()
        }
        self._skip = deque(int(seq) for seq in state.get("skip", []))
        self.redelivered = {int(seq) for seq in state.get("redelivered", [])}
        self.config = self.config.with_pause(int(state.get("pause_until", 0)))


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
