"""Reading a stream's log back at start: FileStore's replay of its segments into memory.

The rules are in filestore.py's theory of operation ("Recovery serves what it can and logs
every loss"): records that fail their checks are skipped up to the next record that
authenticates at its own offset, and every sequence the log should hold and does not (a
damaged stretch, a short or missing segment, less than `msgs/index` vouches for) is logged
and kept in `lost`.
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path
from typing import NamedTuple

from server_stub.jetstream.crypto import Sealer
from server_stub.jetstream.errors import StoreCorrupted
from server_stub.jetstream.memstore import MemStore
from server_stub.jetstream.sealedfile import read_sealed_file
from server_stub.jetstream.segment import (
    KIND_DELETE,
    KIND_FLOOR,
    KIND_MSG,
    KIND_STATE,
    U64,
    decode_msg,
    next_record,
    parse_record,
)

log = logging.getLogger("server_stub.jetstream")

INDEX = struct.Struct(">IQQQ?")  # LogEnd, then True when written by close()
LostRange = tuple[int, int | None]  # first and last lost sequence (None: open-ended)


class LogEnd(NamedTuple):
    """Where the log ended at some point: the log only ever grows past it."""

    segment: int
    size: int
    first_seq: int
    last_seq: int


class LogReplay(MemStore):
    """The reading side of FileStore: replays segment records and accounts for what is lost."""

    # set by FileStore before it loads
    _dir: Path
    _sealer: Sealer
    label: str
    _active: int
    _size: int

    def __init__(self) -> None:
        super().__init__()
        self.lost: list[LostRange] = []
        self._seg_of: dict[int, int] = {}
        self._live: dict[int, int] = {}  # segment -> live message count, oldest first
        self._gap_from = 0  # recovery: first seq of a damaged stretch not yet accounted for
        self._damaged_tail = False  # recovery: the newest segment ends in unreadable bytes
        self._damage_seen = False  # recovery: some segment holds unreadable bytes
        self._removed: set[int] = set()  # recovery: seqs a replayed DELETE record removed
        self._floor = 0  # recovery: the highest replayed FLOOR
        self._skipped: list[LostRange] = []  # recovery: seqs a SKIP said were reported lost
        self._stated: set[int] = set()  # recovery: segments that have their STATE record

    def _segment_path(self, number: int) -> Path:
        return self._dir / f"{number}.blk"

    def _account_for_the_end(self, index: tuple[LogEnd, bool] | None) -> int:
        """Log what the log lacks against the index; returns the last seq it had, if greater."""
        (segment, size, first, known), clean = index or (LogEnd(0, 0, 0, 0), False)
        self._account_for_the_middle(first, min(known, self.last_seq))
        lost_to = 0
        if self.last_seq < known:
            first = min(self._gap_from or self.last_seq + 1, self.last_seq + 1)
            self._lose(first, known, "the log is shorter than recorded in msgs/index")
            lost_to = known
        elif (self._active, self._size) < (segment, size):
            log.error(
                "JetStream stream %s: segment %d is %d bytes shorter than recorded in "
                "msgs/index (no message lost; deletes may have been undone)",
                self.label,
                segment,
                size - self._size if segment == self._active else size,
            )
        if self._gap_from and not clean:  # what came after the checkpoint is unknowable
            self._lose(
                max(self._gap_from, known + 1),
                None,
                "the end of the log is damaged or incomplete (if only a crash cut a write "
                "short, nothing acknowledged is missing)",
            )
        return lost_to

    def _account_for_the_middle(self, first: int, last: int) -> None:
        """Seqs the index says were held that are neither here, removed, nor reported."""
        missing: list[int] = []
        known = self.lost + self._skipped  # reported now, or at an earlier start
        for seq in range(max(first, self._floor, 1), last + 1):
            if seq not in self._msgs and seq not in self._removed:
                if not any(a <= seq and (b is None or seq <= b) for a, b in known):
                    missing.append(seq)
        self._removed.clear()
        self._skipped.clear()
        start = 0
        for position, seq in enumerate(missing):  # report consecutive runs as one range
            if position + 1 == len(missing) or missing[position + 1] != seq + 1:
                self._lose(missing[start], seq, "their segment is damaged or missing")
                start = position + 1

    def _read_index(self) -> tuple[LogEnd, bool] | None:
        """What the last checkpoint or clean close recorded, if it can be read."""
        path = self._dir / "index"
        if not path.exists():
            return None
        try:
            *end, clean = INDEX.unpack(read_sealed_file(path, self._sealer))
        except (StoreCorrupted, struct.error) as exc:
            log.warning("JetStream stream %s: ignoring %s: %s", self.label, path, exc)
            return None
        return LogEnd(*end), clean

    def _lose(self, first: int, last: int | None, why: str) -> None:
        self.lost.append((first, last))
        if last is None:
            what = f"any messages from seq {first} on"
        else:
            what = f"messages {first}..{last}" if last > first else f"message {first}"
        log.error("JetStream stream %s: lost %s: %s", self.label, what, why)

    def _replay_segment(self, number: int, *, first: bool, last: bool) -> None:
        path = self._segment_path(number)
        data = path.read_bytes()
        pos = 0
        while pos < len(data):
            record = parse_record(self._sealer, data, pos, number)
            if record is not None:
                kind, plain, end = record
                self._apply(kind, plain, number, check_state=not first)
                pos = end
                continue
            following = next_record(self._sealer, data, pos + 1, number)
            if following is None:
                self._bad_tail(path, data, pos, last)
                return
            log.error(
                "JetStream stream %s: %s: skipped %d damaged bytes at offset %d",
                self.label,
                path.name,
                following - pos,
                pos,
            )
            self._gap_from = self._gap_from or self.last_seq + 1
            self._damage_seen = True
            pos = following

    def _bad_tail(self, path: Path, data: bytes, pos: int, last: bool) -> None:
        """Records from `pos` to the end of a segment cannot be read."""
        # Recovery deletes nothing: appends go to a fresh segment, never behind these bytes.
        self._damaged_tail = self._damaged_tail or last
        self._damage_seen = True
        log.warning(
            "JetStream stream %s: %s ends with %d bytes that are not a whole record "
            "(offset %d): a write cut short by a crash, or a damaged file",
            self.label,
            path.name,
            len(data) - pos,
            pos,
        )
        # a crash loses only what was never acknowledged; a truncated file may have lost more
        self._gap_from = self._gap_from or self.last_seq + 1

    def _apply(self, kind: int, plain: bytes, segment: int, *, check_state: bool) -> None:
        if kind == KIND_MSG:
            msg = decode_msg(plain)
            self._close_gap(msg.seq - 1)
            self._add(msg)
            self._seg_of[msg.seq] = segment
            self._live[segment] += 1
        elif kind == KIND_DELETE:
            (seq,) = U64.unpack(plain)
            self._removed.add(seq)
            if self.get(seq) is not None:
                self._drop(seq)
        elif kind == KIND_FLOOR:
            (floor,) = U64.unpack(plain)
            self._floor = max(self._floor, floor)
            self._apply_floor(floor)
        elif kind == KIND_STATE:  # the last seq when this segment was started
            (last,) = U64.unpack(plain)
            if check_state and last > self.last_seq:
                self._gap_from = self._gap_from or self.last_seq + 1
            self._close_gap(last)
            self._raise_last(last)
            self._stated.add(segment)
        else:  # KIND_SKIP: seqs up to here were used; any gap before it was reported then
            (last,) = U64.unpack(plain)
            self._gap_from = 0
            if last > self.last_seq:
                self._skipped.append((self.last_seq + 1, last))
            self._raise_last(last)

    def _raise_last(self, last: int) -> None:
        if last > self.last_seq:
            self.last_seq = last
            if not self.messages:
                self.first_seq = last + 1

    def _close_gap(self, known_last: int) -> None:
        """A record proves seqs up to `known_last` existed: unseen ones since damage are lost."""
        if self._gap_from and known_last >= self._gap_from:
            self._lose(self._gap_from, known_last, "their records are damaged or missing")
        if self._gap_from and known_last >= self._gap_from - 1:
            self._gap_from = 0
