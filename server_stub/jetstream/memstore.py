"""The in-memory message store; FileStore extends it with an encrypted log on disk."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from nscpy.jwt.subject import subject_matches


class StoredMsg(NamedTuple):
    """One message as a stream holds it; `hdrs` is the raw NATS/1.0 header block or b"".

    A NamedTuple, not a frozen dataclass: one is built per publish, and a frozen dataclass's
    __init__ (object.__setattr__ per field) costs three times as much."""

    seq: int
    subject: str
    hdrs: bytes
    data: bytes
    ts: int  # nanoseconds since the epoch


class MemStore:
    """Messages by sequence with the stream's running totals, kept in memory only.

    Sizes follow nats-server's accounting (memory: 16 bytes of overhead per message) so that
    `bytes` in stream info and the max_bytes limit agree with the real server.
    """

    kind = "memory"

    def __init__(self) -> None:
        self._msgs: dict[int, StoredMsg] = {}
        self.first_seq = 0  # 0 with no messages ever; otherwise last_seq + 1 when empty
        self.last_seq = 0
        self.last_ts = 0
        self.bytes = 0

    # -- accounting --------------------------------------------------------------------
    def msg_size(self, subject: str, hdrs: bytes, data: bytes) -> int:
        """Bytes a message counts for, as nats-server's memstore reports it."""
        return len(subject) + len(hdrs) + len(data) + 16

    @property
    def messages(self) -> int:
        """Number of messages held."""
        return len(self._msgs)

    # -- reads -------------------------------------------------------------------------
    def get(self, seq: int) -> StoredMsg | None:
        """The message with sequence `seq`, or None."""
        return self._msgs.get(seq)

    def first(self) -> StoredMsg | None:
        """The oldest message held."""
        return self._msgs.get(self.first_seq) if self._msgs else None

    def iter_from(self, seq: int) -> Iterator[StoredMsg]:
        """Messages with sequence >= seq, in order."""
        for current in range(max(seq, self.first_seq), self.last_seq + 1):
            msg = self._msgs.get(current)
            if msg is not None:
                yield msg

    def next_matching(self, seq: int, filters: tuple[str, ...]) -> StoredMsg | None:
        """First message at or after `seq` whose subject matches any filter (all when none)."""
        for msg in self.iter_from(seq):
            if not filters or any(subject_matches(f, msg.subject) for f in filters):
                return msg
        return None

    def last_for_subject(self, subject: str) -> StoredMsg | None:
        """The newest message whose subject matches `subject` (which may have wildcards)."""
        for current in range(self.last_seq, self.first_seq - 1, -1):
            msg = self._msgs.get(current)
            if msg is not None and subject_matches(subject, msg.subject):
                return msg
        return None

    def num_subjects(self) -> int:
        """Count of distinct subjects held."""
        return len({m.subject for m in self._msgs.values()})

    # -- writes ------------------------------------------------------------------------
    def append(self, subject: str, hdrs: bytes, data: bytes, ts: int) -> StoredMsg:
        """Store a message under the next sequence number."""
        msg = StoredMsg(self.last_seq + 1, subject, hdrs, data, ts)
        self._persist_msg(msg)
        self._add(msg)
        return msg

    def remove(self, seq: int) -> bool:
        """Delete one message; False when there is no such message."""
        if seq not in self._msgs:
            return False
        if seq == self.first_seq:
            self._persist_floor(seq + 1)
        else:
            self._persist_delete(seq)
        self._drop(seq)
        return True

    def remove_below(self, floor: int) -> int:
        """Delete every message with sequence < floor; returns how many went."""
        floor = min(floor, self.last_seq + 1)
        if floor <= self.first_seq:
            return 0
        self._persist_floor(floor)
        return self._apply_floor(floor)

    def start_at(self, seq: int) -> None:
        """Make an empty store's next sequence `seq` (a stream's first_seq)."""
        if self._msgs or seq <= self.last_seq + 1:
            return
        self._persist_floor(seq)
        self._apply_floor(seq)

    def holds(self) -> bool:
        """True while appended records wait for `write_out()` (never in memory)."""
        return False

    def write_out(self) -> None:
        """Write what appends left held (nothing to write in memory)."""

    def sync(self) -> None:
        """Make everything appended so far durable (nothing to do in memory)."""

    def checkpoint(self) -> None:
        """Record how far the durable log reaches (nothing to record in memory)."""

    def close(self) -> None:
        """Release resources."""

    # -- internals shared with FileStore's replay ---------------------------------------
    def _add(self, msg: StoredMsg) -> None:
        seq = msg.seq
        if not self._msgs:
            self.first_seq = seq
        self._msgs[seq] = msg
        if seq > self.last_seq:
            self.last_seq = seq
        self.last_ts = msg.ts
        self.bytes += self.msg_size(msg.subject, msg.hdrs, msg.data)

    def _drop(self, seq: int) -> None:
        msg = self._msgs.pop(seq)
        self.bytes -= self.msg_size(msg.subject, msg.hdrs, msg.data)
        self._on_drop(msg)
        if seq == self.first_seq:
            self._advance_first()

    def _advance_first(self) -> None:
        if not self._msgs:
            self.first_seq = self.last_seq + 1
            return
        while self.first_seq not in self._msgs:
            self.first_seq += 1

    def _apply_floor(self, floor: int) -> int:
        gone = 0
        if len(self._msgs) < floor - self.first_seq:
            doomed = [s for s in self._msgs if s < floor]
        else:
            doomed = [s for s in range(self.first_seq, floor) if s in self._msgs]
        for seq in doomed:
            msg = self._msgs.pop(seq)
            self.bytes -= self.msg_size(msg.subject, msg.hdrs, msg.data)
            self._on_drop(msg)
            gone += 1
        self.first_seq = max(self.first_seq, floor)
        self.last_seq = max(self.last_seq, floor - 1)
        self._advance_first()
        return gone

    # Persistence hooks: FileStore writes a record for each change before applying it.
    def _persist_msg(self, msg: StoredMsg) -> None:
        pass

    def _persist_delete(self, seq: int) -> None:
        pass

    def _persist_floor(self, floor: int) -> None:
        pass

    def _on_drop(self, msg: StoredMsg) -> None:
        pass
