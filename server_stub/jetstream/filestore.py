"""The file store: an append-only log of individually sealed records in segment files.

Theory of operation. A stream directory holds `meta.key` (which cipher, plus a sealed known
value that tells a wrong key from damage), `meta.inf` (the sealed stream config) and
`msgs/<n>.blk` segments of individually sealed records (format in `segment.py`). Kinds: MSG
(seq, ts, subject, headers, payload), DELETE (one interior seq), FLOOR (everything below a
seq is gone), STATE (the last seq, written at the start of every segment so it survives when
older segments are removed) and SKIP (seqs up to here were used and their loss reported: never
hand them out again).

Writing. A record is appended whole or not at all: when write(2) fails or comes up short (a
full disk), the segment is cut back to where the record started and the caller gets
StoreWriteFailed, so nothing half-written ever sits before a later record. When fsync fails the
kernel may have dropped the pages, so the store turns read-only until a restart recovers it
from what is really on disk.

Write-behind (the engine's stores). MSG records are held in memory, then sealed together and
written with one write(2) by `write_out()`, which the engine calls once per loop iteration
(before any ack and before anything reads the store), instead of one write per record (a
record's place, sealed into it, is fixed when it is appended). Any other record, a sync, a
roll or a close writes the held records first. When `write_out()` fails, the held messages are
taken back out of the store as if never appended (their sequences are handed out again) and
StoreWriteFailed lists them in `unwritten`, so the engine refuses exactly their acks. When a
write of held records forced by another record (or a sync) fails, the change in progress may
already count on them, so they stay in memory and the store turns read-only instead, as after
a failed fsync; the next `write_out()` names them in `unwritten` so their acks are refused.

`msgs/index` records where the synced log ends (segment, size, first and last seq): exactly
at `close()`, as a lower bound at every `checkpoint()` (the engine's tick, unsynced). The log
only grows, so a start that finds less knows what it lost; after a clean stop that is exact,
after a crash it is exact up to the last checkpoint. (What was written in the last tick before
a crash, then cut at an exact record boundary, is the one loss no record can reveal.)

Recovery serves what it can and logs every loss. A record that fails its checks is skipped up
to the next record that authenticates at its own offset (a forgery or a coincidence cannot, as
the offset is sealed into it), and the sequences that were in between are logged as lost. A
damaged or incomplete tail of the newest segment (a crash mid-write) is left in place and
appends go on in a new segment: recovery deletes nothing (a damaged segment goes later, like
any other, once its last readable message is removed). A gap between a segment's STATE and
the end of the one before it, or a seq the index vouches for that is neither held nor removed
by a DELETE/FLOOR record (a truncated or removed segment), is logged the same way. `lost`
keeps the lost ranges for callers. The replay is `logreplay.LogReplay`, FileStore's base.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Callable
from pathlib import Path

from server_stub.jetstream.crypto import Sealer, Unsealed
from server_stub.jetstream.errors import StoreWriteFailed
from server_stub.jetstream.logreplay import INDEX, LogEnd, LogReplay
from server_stub.jetstream.memstore import StoredMsg
from server_stub.jetstream.sealedfile import (
    FILE_MODE,
    make_dirs,
    write_sealed_file,
)
from server_stub.jetstream.segment import (
    HEADER_SIZE,
    KIND_DELETE,
    KIND_FLOOR,
    KIND_MSG,
    KIND_SKIP,
    KIND_STATE,
    U64,
    encode_msg,
    encode_record,
    msg_record_parts,
    record_parts,
)

log = logging.getLogger("server_stub.jetstream")

DEFAULT_BLOCK_SIZE = 4 << 20
# StoredMsg's constructor without its Python-level __new__ (a NamedTuple's): one per publish
_new_msg = tuple.__new__
_SEGMENT_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC


class FileStore(LogReplay):
    """MemStore whose every change is first appended, sealed, to the segment log."""

    kind = "file"
    # The seams fault-injection tests replace (a full disk, a failing fsync); the rest of the
    # write path stays the real one.
    write_fd: Callable[[int, bytes], int] = staticmethod(os.write)
    fsync_fd: Callable[[int], None] = staticmethod(os.fsync)

    def __init__(
        self,
        directory: Path,
        sealer: Sealer,
        *,
        block_size: int = DEFAULT_BLOCK_SIZE,
        label: str = "",
        write_behind: bool = False,
    ) -> None:
        super().__init__()
        self.write_behind = write_behind
        # MSG records appended, not written yet (write-behind): sealed when written out
        self._held: list[Unsealed] = []
        self._held_msgs: list[StoredMsg] = []
        self._held_from = (0, 0, 0, 0, 0)  # size, first_seq, last_seq, last_ts, bytes before
        self._stranded: tuple[int, ...] = ()  # held seqs a forced write lost: never acked
        self._dir = directory / "msgs"
        self._sealer = sealer
        self._block_size = block_size
        self.label = label or directory.name  # names the stream in logs and errors
        self.failed = ""  # why the store refuses writes until a restart ("" while healthy)
        self._active = 0
        self._fd = -1
        self._size = 0
        self._dirty = False
        self._needs_state = False  # the active segment still lacks its leading STATE record
        self._replaying = False
        self._synced = LogEnd(0, 0, 0, 0)  # as of the last successful fsync
        self._checkpointed = self._synced
        make_dirs(self._dir)
        self._load()

    def msg_size(self, subject: str, hdrs: bytes, data: bytes) -> int:
        """Bytes a message counts for, as nats-server's filestore reports it."""
        if hdrs:
            return 22 + len(subject) + 4 + len(hdrs) + len(data) + 8
        return 22 + len(subject) + len(data) + 8

    def append(self, subject: str, hdrs: bytes, data: bytes, ts: int) -> StoredMsg:
        """MemStore.append. With write-behind, a publish's usual case is done here in one
        piece (what _persist_msg, _write and _hold do for it, without their other cases: a
        roll, a missing STATE record, a failed store): the record is sealed and held. (Replay
        never appends: it adds what it reads.)"""
        size = self._size
        if not self.write_behind or size >= self._block_size or self.failed or self._needs_state:
            return super().append(subject, hdrs, data, ts)
        seq = self.last_seq + 1
        msg = _new_msg(StoredMsg, (seq, subject, hdrs, data, ts))
        record = msg_record_parts(self._sealer, msg, self._active, size)
        if not self._held:
            self._held_from = (size, self.first_seq, self.last_seq, self.last_ts, self.bytes)
        self._held.append(record)
        self._held_msgs.append(msg)
        self._size = size + HEADER_SIZE + len(record[1]) + self._sealer.overhead
        self._seg_of[seq] = self._active
        self._live[self._active] += 1
        self._add(msg)
        return msg

    # -- persistence hooks ---------------------------------------------------------------
    def _persist_msg(self, msg: StoredMsg) -> None:
        self._write(KIND_MSG, encode_msg(msg))
        self._seg_of[msg.seq] = self._active
        self._live[self._active] += 1
        if self._held:
            self._held_msgs.append(msg)

    def _persist_delete(self, seq: int) -> None:
        self._write(KIND_DELETE, U64.pack(seq))

    def _persist_floor(self, floor: int) -> None:
        self._write(KIND_FLOOR, U64.pack(floor))

    def _on_drop(self, msg: StoredMsg) -> None:
        segment = self._seg_of.pop(msg.seq, None)
        if segment is not None:
            self._live[segment] -= 1
        if not self._replaying:
            self._reap()

    def holds(self) -> bool:
        """True while appended records wait for `write_out()`."""
        return bool(self._held)

    def write_out(self) -> None:
        """Write the held records with one write(2). On failure nothing of them stays: the
        file is cut back, the held messages leave the store, and StoreWriteFailed carries
        them in `unwritten`."""
        if self._stranded:
            stranded, self._stranded = self._stranded, ()
            lost = StoreWriteFailed(self.failed)
            lost.unwritten = stranded
            raise lost
        if not self._held:
            return
        data = self._sealer.seal_all(self._held)
        size, first_seq, last_seq, last_ts, held_bytes = self._held_from
        unwritten, self._held, self._held_msgs = self._held_msgs, [], []
        try:
            self._write_at(size, data)
        except StoreWriteFailed as exc:
            for msg in unwritten:  # appended last, so nothing else refers to them yet
                del self._msgs[msg.seq]
                self._seg_of.pop(msg.seq, None)
                self._live[self._active] -= 1
            self.first_seq, self.last_seq, self.last_ts = first_seq, last_seq, last_ts
            self.bytes = held_bytes
            self._size = size
            exc.unwritten = tuple(msg.seq for msg in unwritten)
            raise

    def _write_held(self) -> None:
        """Write held records before another record, a sync, a roll or a close; a failure
        here (in the middle of a change) turns the store read-only, the messages unacked."""
        if not self._held:
            return
        size = self._held_from[0]
        data = self._sealer.seal_all(self._held)
        seqs = tuple(msg.seq for msg in self._held_msgs)
        self._held, self._held_msgs = [], []
        try:
            self._write_at(size, data)
        except StoreWriteFailed as exc:
            self._size = size  # the file was cut back there
            self._stranded += seqs
            self._fail(f"held messages could not be written: {exc.description}")

    def sync(self) -> None:
        """fsync the active segment if anything was appended since the last sync.

        A failure makes the store read-only (see the module doc) and raises StoreWriteFailed.
        """
        self._write_held()
        if self._dirty and self._fd >= 0:
            try:
                self.fsync_fd(self._fd)
            except OSError as exc:
                self._fail(f"fsync of segment {self._active} failed: {_reason(exc)}")
            self._dirty = False
        self._synced = self._log_end()

    def _log_end(self) -> LogEnd:
        return LogEnd(self._active, self._size, self.first_seq, self.last_seq)

    def checkpoint(self, *, clean: bool = False, durable: bool = False) -> None:
        """Record in `msgs/index` where the synced log ends (the engine does so every tick).

        The log only grows, so a later start that finds less has lost something and says
        what. Only `close()` writes a clean (exact) index; a checkpoint is a lower bound.
        """
        if self.failed or self._fd < 0 or (self._synced == self._checkpointed and not clean):
            return
        index = INDEX.pack(*self._synced, clean)
        write_sealed_file(self._dir / "index", self._sealer, index, sync=clean or durable)
        self._checkpointed = self._synced

    def close(self) -> None:
        """fsync and close the active segment, leaving `msgs/index` when all is well."""
        if self._fd < 0:
            return
        try:
            self.sync()  # writes what is held; a failure is logged by _fail, keeps the checkpoint
            self.checkpoint(clean=True)
        except StoreWriteFailed as exc:
            if not self.failed:
                log.error("JetStream stream %s: %s", self.label, exc.description)
        finally:
            os.close(self._fd)
            self._fd = -1

    # -- writing -------------------------------------------------------------------------
    def _write(self, kind: int, plain: bytes) -> None:
        if self.failed:
            raise StoreWriteFailed(self.failed)
        if self._size >= self._block_size:
            self._roll()
        if self._needs_state:
            self._append(KIND_STATE, U64.pack(self.last_seq))
            self._needs_state = False
            self._reap()
        if kind == KIND_MSG and self.write_behind and not self._replaying:
            self._hold(record_parts(self._sealer, kind, plain, self._active, self._size))
            return
        self._append(kind, plain)

    def _hold(self, record: Unsealed) -> None:
        """Keep a MSG record for the end of the log (write-behind: `write_out()` seals and
        writes the held ones)."""
        if not self._held:
            self._held_from = (self._size, self.first_seq, self.last_seq, self.last_ts, self.bytes)
        self._held.append(record)
        self._size += HEADER_SIZE + len(record[1]) + self._sealer.overhead

    def _append(self, kind: int, plain: bytes) -> None:
        self._write_held()
        record = encode_record(self._sealer, kind, plain, self._active, self._size)
        self._write_at(self._size, record)
        self._size += len(record)

    def _write_at(self, size: int, data: bytes) -> None:
        """Append `data` at `size`, the end of the file, whole or not at all."""
        try:
            written = self.write_fd(self._fd, data)
            if written != len(data):  # on a regular file, the disk is full
                reason = f"{os.strerror(errno.ENOSPC)} (wrote {written} of {len(data)} bytes)"
                raise OSError(errno.ENOSPC, reason)
        except OSError as exc:
            self._cut_back(exc, size)
            raise StoreWriteFailed(
                f"cannot write to segment {self._active} of stream {self.label}: {_reason(exc)}"
            ) from exc
        self._dirty = True

    def _cut_back(self, exc: OSError, size: int) -> None:
        """Remove whatever part of a failed write reached the file."""
        try:
            os.ftruncate(self._fd, size)
        except OSError as cut:
            self._fail(
                f"a write to segment {self._active} failed ({_reason(exc)}) and its remains "
                f"could not be cut off ({_reason(cut)})"
            )

    def _fail(self, reason: str) -> None:
        self.failed = f"stream {self.label} is read-only until restart: {reason}"
        log.error("JetStream %s", self.failed)
        raise StoreWriteFailed(self.failed)

    def _open_segment(self, number: int) -> None:
        """Make `number` the active segment (the old one is fsynced and closed first)."""
        try:
            fd = os.open(self._segment_path(number), _SEGMENT_FLAGS, FILE_MODE)
        except OSError as exc:
            raise StoreWriteFailed(
                f"cannot open segment {number} of stream {self.label}: {_reason(exc)}"
            ) from exc
        if self._fd >= 0:
            try:
                self.sync()
            except StoreWriteFailed:
                os.close(fd)  # stay on the old segment, now read-only
                raise
            os.close(self._fd)
        self._fd = fd
        self._active = number
        self._size = os.fstat(fd).st_size
        self._live.setdefault(number, 0)

    def _roll(self) -> None:
        self._open_segment(self._active + 1)
        self._needs_state = True
        try:
            _fsync_dir(self._dir)
        except OSError as exc:
            self._fail(f"fsync of {self._dir} failed: {_reason(exc)}")

    def _reap(self) -> None:
        """Remove the oldest segments without live messages.

        Not before the active segment's STATE record is on disk: it keeps the last seq (and
        the FLOOR/DELETE records that emptied them may be in the segments that go).
        """
        if self._needs_state or self.failed:
            return
        doomed = []
        for segment in self._live:
            if segment == self._active or self._live[segment] > 0:
                break
            doomed.append(segment)
        if not doomed:
            return
        try:
            self.sync()
        except StoreWriteFailed:
            return  # logged; the store is read-only now
        try:  # the index must not vouch for seqs whose removal records are about to go
            self.checkpoint(durable=True)
        except StoreWriteFailed:  # (a full disk): no index is better than a stale one
            (self._dir / "index").unlink(missing_ok=True)
        for segment in doomed:
            del self._live[segment]
            self._segment_path(segment).unlink(missing_ok=True)

    # -- loading -------------------------------------------------------------------------
    def _load(self) -> None:
        numbers = sorted(int(p.stem) for p in self._dir.glob("*.blk") if p.stem.isdigit())
        index = self._read_index()
        self._replaying = True
        try:
            for position, number in enumerate(numbers):
                if position and number != numbers[position - 1] + 1:
                    gone = range(numbers[position - 1] + 1, number)
                    log.error(
                        "JetStream stream %s: segment file%s %s missing",
                        self.label,
                        "s" if len(gone) > 1 else "",
                        ", ".join(f"{n}.blk" for n in gone) + (" are" if len(gone) > 1 else " is"),
                    )
                self._live.setdefault(number, 0)
                self._replay_segment(number, first=position == 0, last=number == numbers[-1])
        finally:
            self._replaying = False
        self._open_segment(numbers[-1] if numbers else 1)
        if not numbers:
            _fsync_dir(self._dir)
        # a roll whose STATE record could not be written (a full disk): write it first
        self._needs_state = self._active > 1 and self._active not in self._stated
        skip_to = self._account_for_the_end(index)
        if self._damaged_tail:
            self._roll()
        if skip_to:
            self._skip_to(skip_to)
        self._synced = self._log_end()
        try:  # also turns a clean index into a checkpoint, in case this run ends in a crash
            self.checkpoint()
        except StoreWriteFailed as exc:
            log.error("JetStream stream %s: %s", self.label, exc.description)
        if not self._damage_seen:  # else keep the evidence until appends and limits move on
            self._reap()

    def _skip_to(self, last: int) -> None:
        """Sequences up to `last` were used and their loss reported: never reuse them."""
        self._raise_last(last)
        try:
            self._append(KIND_SKIP, U64.pack(last))  # before a new segment's STATE record
            self.sync()
        except StoreWriteFailed as exc:
            log.error("JetStream stream %s: %s", self.label, exc.description)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
