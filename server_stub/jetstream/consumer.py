"""Pull and push consumers: delivery, acknowledgements, redelivery, flow control, heartbeats.

A Consumer never touches the bus: every method returns the messages to send as `Outgoing`
records, and time is passed in as `now` (nanoseconds), so the whole state machine is testable
without sockets or sleeps. Delivered messages carry nats-server's reply subject
`$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<timestamp>.<pending>`;
status messages (100 Idle Heartbeat / FlowControl Request, 404 No Messages, 408 Request
Timeout, 409 ...) carry `Status` and `Description` headers, which the server writes as
nats-server's inline status line. The ack bookkeeping is `acks.AckTracker`; the start position,
num_pending, the INFO body and the durable state are in `consumerstate`.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import Any

from nscpy.jwt.subject import subject_matches
from server_stub.jetstream import advisories
from server_stub.jetstream.acks import AckTracker, Pending, nak_delay
from server_stub.jetstream.consumerconfig import ConsumerConfig, sampling_percent
from server_stub.jetstream.consumerstate import num_pending, scanned_to, start_seq
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
from server_stub.jetstream.streamstate import last_per_subject
from server_stub.jetstream.wire import decode_headers

__all__ = [
    "Consumer",
    "ConsumerConfig",
    "Outgoing",
    "PullRequestError",
    "parse_pull_request",
    "status",
]


class Consumer:
    """One consumer on a stream: pull requests wait in `waiting`; a push consumer is served as
    one endless request to its deliver subject while someone is subscribed there."""

    def __init__(self, stream: Stream, config: ConsumerConfig, created: int, now: int) -> None:
        self.stream = stream
        self.config = config
        self.created = created
        self.next_sseq = start_seq(config, stream.store)  # next stream seq for a first delivery
        # deliver_policy last_per_subject: the sequences to send first, then resume after them
        self.skip: deque[int] = deque()
        if config.deliver_policy == "last_per_subject":
            self.skip.extend(last_per_subject(stream.store, config.filter_subjects))
            self.next_sseq = stream.store.last_seq + 1
        self.delivered = (0, 0)  # (consumer seq, stream seq) of the newest delivery
        self.delivered_at = 0
        self.last_active = now
        self.acks = AckTracker()
        self.acks.on_max_deliver = self._max_delivered
        self.waiting: deque[PullRequest] = deque()
        self.dirty = False  # durable state changed since last saved
        # set by the engine: does any client subscription match this subject?
        self.interest: Callable[[str], bool] = lambda subject: True
        self._last_push = now  # last delivery or heartbeat to the deliver subject
        # set by the account on interest / work-queue streams: these sequences were acked
        self.on_acked: Callable[[list[int]], None] | None = None
        # set by the engine: publish a JetStream advisory (where someone listens)
        self.advise: Callable[[advisories.Event], None] | None = None
        self._pause_asked = config.pause_until  # the last pause_until asked for, even past
        self.flow: FlowControl | None = None  # push consumers with flow_control
        if config.flow_control:
            self.flow = FlowControl(f"$JS.FC.{stream.name}.{config.name}")

    @property
    def name(self) -> str:
        """The consumer's name."""
        return self.config.name

    def has_interest(self) -> bool:
        """True when someone is subscribed to the deliver subject (push consumers)."""
        return bool(self.config.deliver_subject) and self.interest(self.config.deliver_subject)

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
        due = self.acks.next_due(store, self.config.max_deliver)
        found: tuple[StoredMsg, bool] | None = (due, True) if due is not None else None
        ack_limit = self.config.max_ack_pending
        if (
            found is None
            and self.config.ack_policy != "none"
            and 0 < ack_limit <= len(self.acks.pending)
        ):
            return None
        while found is None and self.skip:
            msg = store.get(self.skip[0])
            if msg is not None:
                found = (msg, False)
                break
            self.skip.popleft()
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
            self.acks.take_due(msg.seq)
        elif self.skip and self.skip[0] == msg.seq:
            self.skip.popleft()
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
        deliveries = self.acks.count_delivery(msg.seq, again)
        if config.ack_policy != "none":
            deadline = now + self.ack_wait(deliveries)
            self.acks.pending[msg.seq] = Pending(cseq, deliveries, deadline)
        self.delivered = (cseq, max(self.delivered[1], msg.seq))
        if config.ack_policy == "none":
            self.acks.floor = self.delivered
            if self.on_acked is not None:  # delivered is acked: retention may drop it
                self.on_acked([msg.seq])
        self.delivered_at = now
        self.dirty = True
        reply = (
            f"$JS.ACK.{self.stream.name}.{self.name}.{deliveries}.{msg.seq}.{cseq}."
            f"{msg.ts}.{num_pending(self)}"
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

    def ack_wait(self, deliveries: int) -> int:
        """How long to wait for an ack of a message delivered `deliveries` times (backoff)."""
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
        entry = self.acks.pending.get(sseq)
        if entry is None:
            if verb == b"+TERM":  # nats-server reports a term even when nothing is pending
                self._advise_term(tokens, sseq, body)
            return []
        if verb in (b"+ACK", b"+NXT"):
            if self.config.sample_freq and self.advise is not None:
                sample = self._ack_sample(tokens, sseq, entry, now)
                if sample is not None:
                    self.advise(sample)
            up_to = self.config.ack_policy == "all"
            done = self.acks.ack(sseq, now, self.delivered, up_to=up_to)
            if self.on_acked is not None:
                self.on_acked(done)
        elif verb == b"-NAK":
            if self.advise is not None:
                cseq, deliveries = _ack_counts(tokens)
                self.advise(
                    advisories.msg_naked(self.stream.name, self.name, cseq, sseq, deliveries)
                )
            delay = nak_delay(body)
            if delay:
                entry.deadline = now + delay
            else:
                self.acks.queue(sseq)
        elif verb == b"+WPI":
            entry.deadline = now + self.ack_wait(entry.deliveries)
        elif verb == b"+TERM":
            self.acks.term(sseq, now, self.delivered)
            if self.on_acked is not None:  # terminated counts as done for retention
                self.on_acked([sseq])
            self._advise_term(tokens, sseq, body)
        self.dirty = True
        return self._serve_waiting(now)

    def _ack_sample(
        self, tokens: list[str], sseq: int, entry: Pending, now: int
    ) -> advisories.Event | None:
        """nats-server's ack metric: explicit acks only, each with sample_freq% chance."""
        percent = sampling_percent(self.config.sample_freq)
        if self.config.ack_policy != "explicit" or percent <= 0:
            return None
        if percent < 100 and random.randrange(100) > percent:  # (sic) as nats-server draws
            return None
        cseq, deliveries = _ack_counts(tokens)
        delivered_at = entry.deadline - self.ack_wait(entry.deliveries)
        took = now - delivered_at
        return advisories.ack_sample(self.stream.name, self.name, cseq, sseq, took, deliveries)

    def _max_delivered(self, sseq: int, deliveries: int) -> None:
        if self.advise is not None:
            self.advise(advisories.max_deliveries(self.stream.name, self.name, sseq, deliveries))

    def _advise_term(self, tokens: list[str], sseq: int, body: bytes) -> None:
        if self.advise is not None:
            cseq, deliveries = _ack_counts(tokens)
            reason = body[len(b"+TERM") :].strip().decode("utf-8", "replace")
            event = advisories.msg_terminated(
                self.stream.name, self.name, cseq, sseq, deliveries, reason
            )
            self.advise(event)

    def wants(self, subject: str) -> bool:
        """True when this consumer's filter covers `subject` (retention's "interest")."""
        filters = self.config.filter_subjects
        return not filters or any(subject_matches(f, subject) for f in filters)

    def has_acked(self, seq: int) -> bool:
        """True when stream message `seq` was delivered and acknowledged (or needs no ack)."""
        if seq >= self.next_sseq or seq in self.acks.pending or seq in self.skip:
            return False
        return True

    # -- pause ---------------------------------------------------------------------------
    def pause(self, until: int, now: int) -> list[Outgoing]:
        """CONSUMER.PAUSE: hold deliveries until `until` (a past time or 0 resumes)."""
        self.config = self.config.with_pause(until if until > now else 0)
        self.dirty = True
        if until != self._pause_asked:  # nats-server reports a changed pause_until
            self._pause_asked = until
            self._advise_pause(until > now, until)
        return self._serve_waiting(now)

    def _advise_pause(self, paused: bool, until: int) -> None:
        if self.advise is not None:
            self.advise(advisories.consumer_pause(self.stream.name, self.name, paused, until))

    # -- time ----------------------------------------------------------------------------
    def tick(self, now: int) -> list[Outgoing]:
        """Redeliver after ack_wait, expire pull requests, send heartbeats, serve what waits."""
        if self.config.pause_until and not self.config.paused(now):
            self._advise_pause(False, self.config.pause_until)
            self.config = self.config.with_pause(0)  # the pause ran out: deliver again
            self.dirty = True
        self.acks.queue_expired(now)
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
            "Nats-Last-Stream": str(scanned_to(self)),
        }
        if self.flow is not None and self.flow.reply:
            # a flow control request is unanswered: tell the client which reply unblocks us
            extra["Nats-Consumer-Stalled"] = self.flow.reply
        return status(to, 100, "Idle Heartbeat", extra)

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


def _ack_counts(tokens: list[str]) -> tuple[int, int]:
    """The consumer seq and delivery count an ack subject carries ($JS.ACK.<stream>.<consumer>.
    <deliveries>.<stream seq>.<consumer seq>...); 0 for a token that is not a number."""
    cseq, deliveries = tokens[6], tokens[4]
    return (int(cseq) if cseq.isdigit() else 0, int(deliveries) if deliveries.isdigit() else 0)
