"""The file store: an append-only log of individually sealed records in segment files.

Theory of operation. A stream directory holds `meta.key` (which cipher, plus a sealed known
value that tells a wrong key from damage), `meta.inf` (the sealed stream config) and
`msgs/<n>.blk` segments. Each record is

    header (12 bytes, clear): b"NJ" | version | kind | u32 body length | u32 CRC-32 of the 8 bytes
    body: Sealer.seal(plain, aad = magic+version+kind | u32 segment | u64 offset)

so subject, headers and payload exist on disk only inside a sealed body, and a record cannot be
moved to another place without failing authentication. Kinds: MSG (seq, ts, subject, headers,
payload), DELETE (one interior seq), FLOOR (everything below a seq is gone) and STATE (the last
seq, written at the start of every segment so it survives when older segments are removed).

On open, every record is verified. An incomplete record at the end of the newest segment is a
torn write (the process died mid-append): it is cut off and everything before it is kept. Any
other failure (bad header CRC, bad tag, short record in an older segment) raises StoreCorrupted
naming the file and offset, so damaged or foreign data is never served. Segments are removed
oldest first once they hold no live message; the newest segment is never removed.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

from server_stub.jetstream.crypto import OpenFailed, Sealer
from server_stub.jetstream.errors import StoreCorrupted, WrongKey
from server_stub.jetstream.memstore import MemStore, StoredMsg

_MAGIC = b"NJ\x01"
_HEADER = struct.Struct(">4sII")  # magic+kind, body length, crc of the first 8 bytes
_MSG = struct.Struct(">QqHI")  # seq, ts, subject length, header length
_U64 = struct.Struct(">Q")
KIND_MSG, KIND_DELETE, KIND_FLOOR, KIND_STATE = 1, 2, 3, 4
DEFAULT_BLOCK_SIZE = 4 << 20
_FILE_MAGIC = b"NJF1"
_KEY_CHECK = b"nscpy jetstream key check v1"


class FileStore(MemStore):
    """MemStore whose every change is first appended, sealed, to the segment log."""

    kind = "file"

    def __init__(self, directory: Path, sealer: Sealer, *, block_size: int = DEFAULT_BLOCK_SIZE):
        super().__init__()
        self._dir = directory / "msgs"
        self._sealer = sealer
        self._block_size = block_size
        self._seg_of: dict[int, int] = {}
        self._live: dict[int, int] = {}  # segment -> live message count, oldest first
        self._active = 0
        self._fd = -1
        self._size = 0
        self._dirty = False
        self._replaying = False
        self._dir.mkdir(parents=True, exist_ok=True)
        self._load()

    def msg_size(self, subject: str, hdrs: bytes, data: bytes) -> int:
        """Bytes a message counts for, as nats-server's filestore reports it."""
        if hdrs:
            return 22 + len(subject) + 4 + len(hdrs) + len(data) + 8
        return 22 + len(subject) + len(data) + 8

    # -- persistence hooks ---------------------------------------------------------------
    def _persist_msg(self, msg: StoredMsg) -> None:
        subject = msg.subject.encode()
        plain = _MSG.pack(msg.seq, msg.ts, len(subject), len(msg.hdrs)) + subject + msg.hdrs
        self._write(KIND_MSG, plain + msg.data)
        self._seg_of[msg.seq] = self._active
        self._live[self._active] += 1

    def _persist_delete(self, seq: int) -> None:
        self._write(KIND_DELETE, _U64.pack(seq))

    def _persist_floor(self, floor: int) -> None:
        self._write(KIND_FLOOR, _U64.pack(floor))

    def _on_drop(self, msg: StoredMsg) -> None:
        segment = self._seg_of.pop(msg.seq, None)
        if segment is not None:
            self._live[segment] -= 1
        if not self._replaying:
            self._reap()

    def sync(self) -> None:
        """fsync the active segment if anything was appended since the last sync."""
        if self._dirty and self._fd >= 0:
            os.fsync(self._fd)
            self._dirty = False

    def close(self) -> None:
        """fsync and close the active segment."""
        if self._fd >= 0:
            self.sync()
            os.close(self._fd)
            self._fd = -1

    # -- writing -------------------------------------------------------------------------
    def _write(self, kind: int, plain: bytes) -> None:
        if self._size >= self._block_size:
            self._roll()
        magic = _MAGIC + bytes([kind])
        aad = magic + struct.pack(">IQ", self._active, self._size)
        body = self._sealer.seal(plain, aad)
        head8 = magic + len(body).to_bytes(4, "big")
        record = head8 + zlib.crc32(head8).to_bytes(4, "big") + body
        written = os.write(self._fd, record)
        if written != len(record):  # a short write on a regular file means the disk is full
            raise OSError(f"short write to segment {self._active}: {written} of {len(record)}")
        self._size += len(record)
        self._dirty = True

    def _open_segment(self, number: int) -> None:
        if self._fd >= 0:
            self.sync()
            os.close(self._fd)
        path = self._segment_path(number)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._active = number
        self._size = os.fstat(self._fd).st_size
        self._live.setdefault(number, 0)

    def _roll(self) -> None:
        self._open_segment(self._active + 1)
        _fsync_dir(self._dir)
        self._write(KIND_STATE, _U64.pack(self.last_seq))
        self._reap()

    def _reap(self) -> None:
        for segment in list(self._live):
            if segment == self._active or self._live[segment] > 0:
                break
            del self._live[segment]
            self._segment_path(segment).unlink(missing_ok=True)

    def _segment_path(self, number: int) -> Path:
        return self._dir / f"{number}.blk"

    # -- loading -------------------------------------------------------------------------
    def _load(self) -> None:
        numbers = sorted(int(p.stem) for p in self._dir.glob("*.blk") if p.stem.isdigit())
        self._replaying = True
        try:
            for index, number in enumerate(numbers):
                self._live.setdefault(number, 0)
                self._replay_segment(number, last=index == len(numbers) - 1)
        finally:
            self._replaying = False
        if numbers:
            self._open_segment(numbers[-1])
        else:
            self._open_segment(1)
            _fsync_dir(self._dir)
        self._reap()

    def _replay_segment(self, number: int, *, last: bool) -> None:
        path = self._segment_path(number)
        data = path.read_bytes()
        pos = 0
        while pos < len(data):
            if len(data) - pos < _HEADER.size:
                self._torn(path, pos, last)
                return
            magic, length, crc = _HEADER.unpack_from(data, pos)
            if zlib.crc32(data[pos : pos + 8]) != crc or magic[:3] != _MAGIC:
                raise StoreCorrupted(f"{path}: damaged record header at offset {pos}")
            end = pos + _HEADER.size + length
            if end > len(data):
                self._torn(path, pos, last)
                return
            aad = magic + struct.pack(">IQ", number, pos)
            try:
                plain = self._sealer.open(data[pos + _HEADER.size : end], aad)
            except OpenFailed:
                raise StoreCorrupted(
                    f"{path}: record at offset {pos} fails authentication (tampered or damaged)"
                ) from None
            self._apply(magic[3], plain, number, path, pos)
            pos = end

    def _torn(self, path: Path, pos: int, last: bool) -> None:
        if not last:
            raise StoreCorrupted(f"{path}: truncated record at offset {pos} in an older segment")
        # a write cut short by a crash: keep everything before it
        with open(path, "r+b") as handle:
            handle.truncate(pos)
            handle.flush()
            os.fsync(handle.fileno())

    def _apply(self, kind: int, plain: bytes, segment: int, path: Path, pos: int) -> None:
        if kind == KIND_MSG:
            seq, ts, slen, hlen = _MSG.unpack_from(plain)
            start = _MSG.size
            subject = plain[start : start + slen].decode()
            hdrs = plain[start + slen : start + slen + hlen]
            msg = StoredMsg(seq, subject, hdrs, plain[start + slen + hlen :], ts)
            self._add(msg)
            self._seg_of[seq] = segment
            self._live[segment] += 1
        elif kind == KIND_DELETE:
            (seq,) = _U64.unpack(plain)
            if self.get(seq) is not None:
                self._drop(seq)
        elif kind == KIND_FLOOR:
            (floor,) = _U64.unpack(plain)
            self._apply_floor(floor)
        elif kind == KIND_STATE:
            (last,) = _U64.unpack(plain)
            if last > self.last_seq:
                self.last_seq = last
                if not self.messages:
                    self.first_seq = last + 1
        else:
            raise StoreCorrupted(f"{path}: unknown record kind {kind} at offset {pos}")


def write_sealed_file(path: Path, sealer: Sealer, data: bytes, *, sync: bool = True) -> None:
    """Atomically replace `path` with `data` sealed (label = file name), fsynced when asked."""
    sealed = sealer.seal(data, path.name.encode())
    blob = _FILE_MAGIC + zlib.crc32(sealed).to_bytes(4, "big") + sealed
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(blob)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)
    if sync:
        _fsync_dir(path.parent)


def read_sealed_file(path: Path, sealer: Sealer) -> bytes:
    """The data of a file written by write_sealed_file; StoreCorrupted/WrongKey on failure."""
    blob = path.read_bytes()
    sealed = blob[8:]
    if blob[:4] != _FILE_MAGIC or zlib.crc32(sealed).to_bytes(4, "big") != blob[4:8]:
        raise StoreCorrupted(f"{path}: damaged file (checksum mismatch)")
    try:
        return sealer.open(sealed, path.name.encode())
    except OpenFailed:
        raise WrongKey(f"{path}: cannot be opened with the configured jetstream key") from None


def check_key(directory: Path, sealer: Sealer, what: str) -> None:
    """Create `meta.key` on first use; later, refuse a different cipher or key with WrongKey."""
    path = directory / "meta.key"
    if not path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        write_sealed_file(path, sealer, sealer.name.encode() + b"\n" + _KEY_CHECK)
        return
    blob = path.read_bytes()
    sealed = blob[8:]
    if blob[:4] != _FILE_MAGIC or zlib.crc32(sealed).to_bytes(4, "big") != blob[4:8]:
        raise StoreCorrupted(f"{path}: damaged key check file")
    # the cipher name is inside the sealed part, so try to open before blaming the key
    try:
        plain = sealer.open(sealed, path.name.encode())
    except OpenFailed:
        raise WrongKey(
            f"{what} was stored with a different jetstream key or cipher than the one "
            f"configured (cipher {sealer.name}); start with the original key"
        ) from None
    name, _, check = plain.partition(b"\n")
    if check != _KEY_CHECK or name.decode() != sealer.name:
        raise WrongKey(f"{what} was stored with cipher {name.decode()!r}, configured {sealer.name}")


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
