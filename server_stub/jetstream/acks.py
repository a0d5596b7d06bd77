"""A consumer's outstanding acknowledgements: what is pending, what is due again, the ack floor.

Pure bookkeeping for `consumer.Consumer`. Each delivered message waits in `pending` with its
consumer sequence, delivery count and ack deadline; a nak or a missed deadline queues it for
redelivery (a heap of stream sequences, each queued once); an ack or a term removes it and
moves the ack floor. `redelivered` is nats-server's "rdc": delivered more than once and not
acknowledged yet.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable
from dataclasses import dataclass

from server_stub.jetstream.memstore import MemStore, StoredMsg


@dataclass(slots=True)
class Pending:
    """One delivered, unacknowledged message."""

    cseq: int
    deliveries: int
    deadline: int


class AckTracker:
    """Pending acks, the redelivery queue and the ack floor of one consumer."""

    def __init__(self) -> None:
        self.pending: dict[int, Pending] = {}  # by stream seq
        self.redelivered: set[int] = set()
        self.floor = (0, 0)  # (consumer seq, stream seq): everything up to it is acknowledged
        self.acked_at = 0
        self._due: list[int] = []  # heap of stream seqs due for redelivery
        self._queued: set[int] = set()
        # told (stream seq, deliveries) when a message is dropped at max_deliver
        self.on_max_deliver: Callable[[int, int], None] | None = None

    def next_due(self, store: MemStore, max_deliver: int) -> StoredMsg | None:
        """The first queued redelivery that is still stored and under max_deliver (left queued:
        `take_due` once delivered)."""
        while self._due:
            seq = self._due[0]
            msg = store.get(seq)
            entry = self.pending.get(seq)
            if msg is not None and entry is not None:
                if not 0 < max_deliver <= entry.deliveries:
                    return msg
            # gone, or delivered max_deliver times: nats-server drops it from pending here
            # (the ack floor stays until the next ack; it still counts as redelivered)
            if entry is not None and 0 < max_deliver <= entry.deliveries and self.on_max_deliver:
                self.on_max_deliver(seq, entry.deliveries)
            heapq.heappop(self._due)
            self._queued.discard(seq)
            self.pending.pop(seq, None)
        return None

    def take_due(self, seq: int) -> None:
        """The redelivery `next_due` returned went out."""
        heapq.heappop(self._due)
        self._queued.discard(seq)

    def count_delivery(self, seq: int, again: bool) -> int:
        """How many times `seq` has been delivered, this delivery included."""
        entry = self.pending.get(seq)
        deliveries = entry.deliveries + 1 if (again and entry) else 1
        if deliveries > 1:
            self.redelivered.add(seq)
        return deliveries

    def queue(self, seq: int) -> None:
        """Redeliver `seq` as soon as the consumer delivers again."""
        if seq not in self._queued:
            self._queued.add(seq)
            heapq.heappush(self._due, seq)

    def queue_expired(self, now: int) -> None:
        """Queue every message whose ack deadline has passed (past max_deliver it is dropped
        when next due)."""
        for seq, entry in list(self.pending.items()):
            if entry.deadline <= now and seq not in self._queued:
                self.queue(seq)

    def ack(self, seq: int, now: int, delivered: tuple[int, int], *, up_to: bool) -> list[int]:
        """Acknowledge `seq` (and, with ack_policy all, every pending one below); the seqs."""
        done = [s for s in self.pending if s <= seq] if up_to else [seq]
        for each in done:
            del self.pending[each]
            self.redelivered.discard(each)
        self.update_floor(now, delivered)
        return done

    def term(self, seq: int, now: int, delivered: tuple[int, int]) -> None:
        """+TERM: never redeliver `seq`; it counts as done."""
        del self.pending[seq]
        self.redelivered.discard(seq)
        self.update_floor(now, delivered)

    def update_floor(self, now: int, delivered: tuple[int, int]) -> None:
        """Move the floor to just below the oldest pending message (or to `delivered`)."""
        self.acked_at = now
        if not self.pending:
            self.floor = delivered
            return
        low = min(self.pending)
        self.floor = (self.pending[low].cseq - 1, low - 1)


def nak_delay(body: bytes) -> int:
    """The delay (ns) of `-NAK {"delay": ...}`; 0 for a plain -NAK or one that does not parse."""
    _, _, rest = body.partition(b" ")
    if not rest.strip():
        return 0
    try:
        value = json.loads(rest)
    except ValueError:
        return 0
    delay = value.get("delay", 0) if isinstance(value, dict) else 0
    return int(delay) if isinstance(delay, int) else 0
