"""The record format of segment files (`msgs/<n>.blk`): pure encode, parse and resync.

    header (12 bytes, clear): b"NJ" | version | kind | u32 body length | u32 CRC-32 of the 8 bytes
    body: Sealer.seal(plain, aad = magic+version+kind | u32 segment | u64 offset)

Subject, headers and payload exist on disk only inside a sealed body, and a record cannot be
moved to another place without failing authentication: a record that authenticates at an
offset was written there, which is what lets recovery resynchronise after damage.
"""

from __future__ import annotations

import struct
import zlib

from server_stub.jetstream.crypto import OpenFailed, Sealer, Unsealed
from server_stub.jetstream.memstore import StoredMsg

MAGIC = b"NJ\x01"
_HEADER = struct.Struct(">4sII")  # magic+kind, body length, crc of the first 8 bytes
HEADER_SIZE = _HEADER.size
_MSG = struct.Struct(">QqHI")  # seq, ts, subject length, header length
U64 = struct.Struct(">Q")
KIND_MSG, KIND_DELETE, KIND_FLOOR, KIND_STATE, KIND_SKIP = 1, 2, 3, 4, 5
_KINDS = (KIND_MSG, KIND_DELETE, KIND_FLOOR, KIND_STATE, KIND_SKIP)
_MAGICS = {kind: MAGIC + bytes([kind]) for kind in _KINDS}  # written once per record
_PLACE = struct.Struct(">IQ")  # segment, offset: sealed into the record's aad
_HEAD8 = struct.Struct(">4sI")  # magic+kind, body length
_MSG_MAGIC = _MAGICS[KIND_MSG]
_MSG_HEADS: dict[int, bytes] = {}  # body length -> a MSG record's header (encode_msg_record)


def encode_record(sealer: Sealer, kind: int, plain: bytes, segment: int, offset: int) -> bytes:
    """The bytes of one record written at `offset` of `segment`."""
    return sealer.seal_all((record_parts(sealer, kind, plain, segment, offset),))


def record_parts(sealer: Sealer, kind: int, plain: bytes, segment: int, offset: int) -> Unsealed:
    """A record before it is sealed: its header, plaintext and aad (Sealer.seal_all seals
    them; HEADER_SIZE + len(plaintext) + sealer.overhead bytes)."""
    magic = _MAGICS[kind]
    head8 = _HEAD8.pack(magic, len(plain) + sealer.overhead)
    head = head8 + zlib.crc32(head8).to_bytes(4, "big")
    return head, plain, magic + _PLACE.pack(segment, offset)


def msg_record_parts(sealer: Sealer, msg: StoredMsg, segment: int, offset: int) -> Unsealed:
    """record_parts(sealer, KIND_MSG, encode_msg(msg), segment, offset), as one publish's
    record is made: the 12-byte header depends only on the body's length, so it is kept
    per length (a stream's messages tend to have a few sizes)."""
    subject = msg.subject.encode()
    hdrs = msg.hdrs
    plain = _MSG.pack(msg.seq, msg.ts, len(subject), len(hdrs)) + subject + hdrs + msg.data
    size = len(plain) + sealer.overhead
    head = _MSG_HEADS.get(size)
    if head is None:
        if len(_MSG_HEADS) >= 1024:
            _MSG_HEADS.clear()
        head8 = _HEAD8.pack(_MSG_MAGIC, size)
        head = _MSG_HEADS[size] = head8 + zlib.crc32(head8).to_bytes(4, "big")
    return head, plain, _MSG_MAGIC + _PLACE.pack(segment, offset)


def parse_record(
    sealer: Sealer, data: bytes, pos: int, segment: int
) -> tuple[int, bytes, int] | None:
    """(kind, plaintext, end) of the record at `pos`, or None when it does not check out."""
    if len(data) - pos < _HEADER.size:
        return None
    magic, length, crc = _HEADER.unpack_from(data, pos)
    if magic[:3] != MAGIC or zlib.crc32(data[pos : pos + 8]) != crc:
        return None
    end = pos + _HEADER.size + length
    if end > len(data) or magic[3] not in _KINDS:
        return None
    try:
        plain = sealer.open(data[pos + _HEADER.size : end], magic + _PLACE.pack(segment, pos))
    except OpenFailed:
        return None
    return magic[3], plain, end


def next_record(sealer: Sealer, data: bytes, start: int, segment: int) -> int | None:
    """Offset of the next record at or after `start` that authenticates, if any."""
    pos = data.find(MAGIC, start)
    while pos >= 0:
        if parse_record(sealer, data, pos, segment) is not None:
            return pos
        pos = data.find(MAGIC, pos + 1)
    return None


def encode_msg(msg: StoredMsg) -> bytes:
    """The plaintext of a MSG record."""
    subject = msg.subject.encode()
    return _MSG.pack(msg.seq, msg.ts, len(subject), len(msg.hdrs)) + subject + msg.hdrs + msg.data


def decode_msg(plain: bytes) -> StoredMsg:
    """The message in a MSG record's plaintext."""
    seq, ts, slen, hlen = _MSG.unpack_from(plain)
    start = _MSG.size
    subject = plain[start : start + slen].decode()
    hdrs = plain[start + slen : start + slen + hlen]
    return StoredMsg(seq, subject, hdrs, plain[start + slen + hlen :], ts)
