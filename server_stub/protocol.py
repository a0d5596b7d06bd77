"""Sans-I/O NATS client protocol, server side.

Theory of operation: bytes from the socket go in with `receive_data`; `next_event` returns one
client event at a time or NEED_DATA when the buffer holds no complete operation. Framing is
line-based: a control line up to LF (CR optional, as nats-server accepts), then for PUB/HPUB a
payload of the announced size followed by CRLF. Anything the real server refuses raises
ProtocolError carrying the -ERR text nats-server sends (or None where it closes silently); after
that the connection is dead and `next_event` keeps raising the same error. `send(event)` turns
a server event into wire bytes (server_stub.encoding). CONNECT's JSON is read by
server_stub.connect_options. No sockets, no clock, no asyncio here.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import Literal

from server_stub import errors
from server_stub.connect_options import client_options, json_object
from server_stub.encoding import encode_event, text
from server_stub.errors import ProtocolError
from server_stub.events import (
    ClientEvent,
    Connect,
    HPub,
    Ping,
    Pong,
    Pub,
    ServerEvent,
    Sub,
    Unsub,
)
from server_stub.inbox import INBOX_PREFIX_BYTES

DEFAULT_MAX_PAYLOAD = 1024 * 1024
DEFAULT_MAX_CONTROL_LINE = 4096
# Consumed bytes are dropped from the front of the buffer once they pass this size; doing it on
# every event would make a burst of small PUBs quadratic.
_COMPACT_AT = 64 * 1024


# Subject bytes -> str for the fast path: a publisher mostly repeats a few subjects.
_SUBJECTS: dict[bytes, str] = {}


class Sentinel(enum.Enum):
    """Marker values returned instead of an event."""

    NEED_DATA = "NEED_DATA"


NEED_DATA = Sentinel.NEED_DATA
NeedData = Literal[Sentinel.NEED_DATA]

_PING = Ping()
_PONG = Pong()


# nats-server's parseSize reads at most 9 digits ("999M"); a longer size is as bad as no size.
_MAX_SIZE_DIGITS = 9


def _parse_size(raw: bytes) -> int:
    """nats-server's parseSize: plain ASCII digits, at most 9 of them, else -1."""
    # int() alone would accept "+1", " 1" and "1_0"; isdigit() also takes "²", hence isascii().
    if not (raw.isascii() and raw.isdigit()) or len(raw) > _MAX_SIZE_DIGITS:
        return -1
    return int(raw)


def _size(raw: bytes) -> int:
    size = _parse_size(raw)
    if size < 0:  # nats-server closes without an -ERR ("Bad or Missing Size")
        raise ProtocolError(f"size must be 1 to 9 decimal digits, got {raw[:32]!r}", None)
    return size


_BLANKS = re.compile(rb"[ \t]+")
_ARG_SEPARATORS = re.compile(rb"[ \t\r]+")
# a control line that has reached its arguments (nats-server's *_ARG states)
_ARG_LINE = re.compile(rb"(?i)(?:PUB|HPUB|SUB|UNSUB|CONNECT|INFO)[ \t]+(?=[^ \t])")


def _op_and_args(line: bytes, drop: bool = True) -> tuple[bytes, bytes | None]:
    """A control line (LF removed) split as nats-server's parser does: the operation runs to
    the first space or tab (a vertical tab or form feed is part of it, so "SUB\\vx" is no SUB);
    the arguments follow that run of blanks. A CR anywhere in the arguments makes nats-server
    drop the line's last byte, assuming the CR ended it; None: no arguments."""
    blanks = _BLANKS.search(line)
    if blanks is None or blanks.start() == 0:  # nothing after the op, or a leading blank
        return line, None
    rest = line[blanks.end() :]
    if drop and b"\r" in rest:  # (not for a line a read split: ServerConnection.receive_data)
        rest = rest[:-1]
    return line[: blanks.start()], rest


def _args(rest: bytes, separators: re.Pattern[bytes] = _ARG_SEPARATORS) -> list[bytes]:
    """nats-server's splitArg: fields separated by spaces, tabs and CRs (PUB and HPUB have
    their own unrolled split, where a CR is part of a field: "PUB a 1\\rX" has no valid size)."""
    return [arg for arg in separators.split(rest) if arg]


# The canonical PUB/HPUB lines every client library writes: upper case, single spaces, no tab,
# a CR only before the LF. The fast path takes only these; any other form (and every error)
# goes through next_event, so both paths read the same bytes the same way.
_FAST_PUB = re.compile(rb"PUB ([^ \t\r\n]+)(?: ([^ \t\r\n]+))? ([0-9]{1,9})\r\n")
_FAST_HPUB = re.compile(rb"HPUB ([^ \t\r\n]+)(?: ([^ \t\r\n]+))? ([0-9]{1,9}) ([0-9]{1,9})\r\n")
_P, _H = ord("P"), ord("H")
# Reply-less lines remembered per connection: a publisher mostly repeats a few (same subject,
# same size), and a repeated line is one dict lookup instead of a regex match. Lines with a
# reply are not kept, nor replies to them (`_INBOX.` subjects): request inboxes and JetStream
# acks make each of them new. Bounded in count and length: at most 32 KiB per connection.
_LINES_KEPT = 128
_LINE_KEPT_MAX = 256

# handle(subject, reply, header size or -1 for PUB, total size, tail) -> whether to read on.
# `tail` is the operation from its first size field through the CRLF after the payload
# ("5\r\nhello\r\n"; "12 17\r\n<headers>hello\r\n" for HPUB): MSG and HMSG end with exactly
# these bytes, so a delivery is a prefix plus the tail (split_body gives headers and payload).
PubHandler = Callable[[str, "str | None", int, int, bytes], bool]
# (subject, reply, header size or -1, total size, where the tail starts in the line)
_Line = tuple[str, "str | None", int, int, int]


def split_body(tail: bytes, hdr: int, total: int) -> tuple[bytes | None, bytes]:
    """(headers or None, payload) of a read_pubs tail."""
    body = len(tail) - total - 2
    if hdr < 0:
        return None, tail[body:-2]
    return tail[body : body + hdr], tail[body + hdr : -2]


class ServerConnection:
    """One client connection's protocol state, as seen from the server."""

    def __init__(
        self,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        max_control_line: int = DEFAULT_MAX_CONTROL_LINE,
    ) -> None:
        self.max_payload = max_payload
        self.max_control_line = max_control_line
        self.headers = False  # set once a CONNECT asks for headers; HPUB is refused before that
        self._buf = bytearray()
        self._pos = 0
        # (is_hpub, subject, reply, header size, total size) while waiting for a payload
        self._pending: tuple[bool, str, str | None, int, int] | None = None
        self._error: ProtocolError | None = None
        self._split_args = False  # a read ended inside the waiting line's arguments (argBuf)
        self._lines: dict[bytes, _Line] = {}  # see _LINES_KEPT

    def receive_data(self, data: bytes | memoryview) -> None:
        """Append bytes read from the socket (copied: a memoryview may be reused after)."""
        split = self._pending is None and self._pos < len(self._buf) and self._split_line()
        if self._pos and self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        elif self._pos > _COMPACT_AT:
            del self._buf[: self._pos]
            self._pos = 0
        start = len(self._buf)
        self._buf += data
        if split:
            # after the split nats-server appends every byte but CR to argBuf, up to the LF
            nl = self._buf.find(b"\n", start)
            end = len(self._buf) if nl < 0 else nl
            if self._buf.find(b"\r", start, end) >= 0:
                self._buf[start:end] = self._buf[start:end].replace(b"\r", b"")

    def _split_line(self) -> bool:
        """True when a read ended inside the waiting line's arguments: nats-server then keeps
        them in argBuf, minus their last byte if a CR came anywhere in them (its `drop`, meant
        for the CR before the LF), and takes the line whole at the LF. So `SUB x\r` then
        `PING\r\n` is the one argument `xPING`. Searched in place: this runs on every read."""
        if self._split_args:
            return True
        buf, pos = self._buf, self._pos
        if buf.find(b"\n", pos) >= 0:
            return False  # complete lines wait (the per-turn budget): not a split line
        start = _ARG_LINE.match(buf, pos)
        if start is None:
            return False
        if buf.find(b"\r", start.end()) >= 0:
            del buf[-1]
        self._split_args = True
        return True

    def next_event(self) -> ClientEvent | NeedData:
        """The next complete client operation, or NEED_DATA; raises ProtocolError."""
        if self._error is not None:
            raise self._error
        try:
            return self._next()
        except ProtocolError as exc:
            self._error = exc
            raise

    def read_pubs(self, handle: PubHandler) -> bool:
        """Hand a run of complete, canonical PUB/HPUB operations at the front of the buffer to
        `handle` without building events, until it returns False or something else comes.
        True when that emptied the buffer (next_event would return NEED_DATA).

        Whatever this leaves (another operation, an incomplete one, a lenient form, an error)
        is for `next_event`, which reads it exactly as it would have: the fast path decides
        nothing the event path would decide differently.
        """
        if self._error is not None or self._pending is not None or self._split_args:
            return False
        buf = self._buf
        pos = self._pos
        size = len(buf)
        find = buf.find
        lines = self._lines
        line = b""  # the last line read, and what it was read as
        known: _Line | None = None
        while pos < size:
            if known is not None and buf.startswith(line, pos):
                nl = pos + len(line) - 1  # the same line again: a publisher's usual run
            else:
                nl = find(b"\n", pos)
                if nl < 0:
                    return False
                line = bytes(buf[pos : nl + 1])
                known = lines.get(line)
                if known is None:
                    known = self._read_line(line)
                    if known is None:
                        return False
            subject, reply, hdr, total, at = known
            end = nl + 1 + total
            if total > self.max_payload or end + 2 > size:
                return False
            if buf[end] != 13 or buf[end + 1] != 10:
                return False
            tail = bytes(buf[pos + at : end + 2])
            pos = self._pos = end + 2
            if not handle(subject, reply, hdr, total, tail):
                return pos == size
        return True

    def _read_line(self, line: bytes) -> _Line | None:
        """A canonical PUB/HPUB line (LF included) read for read_pubs, kept when it has no
        reply; None for anything else (next_event's to read)."""
        if len(line) > self.max_control_line + 2:  # the line with its CRLF, as _next_op bounds it
            return None
        first = line[0]
        if first == _P:
            m = _FAST_PUB.fullmatch(line)
            if m is None:
                return None
            hdr, total = -1, int(m.group(3))
        elif first == _H and self.headers:
            m = _FAST_HPUB.fullmatch(line)
            if m is None:
                return None
            hdr, total = int(m.group(3)), int(m.group(4))
            if hdr > total:
                return None
        else:
            return None
        subject_b, reply_b = m.group(1, 2)
        subject = _SUBJECTS.get(subject_b)
        if subject is None:
            if len(_SUBJECTS) > 4096:
                _SUBJECTS.clear()
            subject = _SUBJECTS[subject_b] = text(subject_b)
        reply = None if reply_b is None else text(reply_b)
        known = (subject, reply, hdr, total, m.start(3))  # group 3: the first size field
        if (
            reply_b is None
            and len(line) <= _LINE_KEPT_MAX
            and not subject_b.startswith(INBOX_PREFIX_BYTES)
        ):
            lines = self._lines
            if len(lines) >= _LINES_KEPT:
                lines.clear()
            lines[line] = known
        return known

    def _next(self) -> ClientEvent | NeedData:
        while True:
            event = self._next_op()
            if event is not None:
                return event

    def _next_op(self) -> ClientEvent | NeedData | None:
        """One operation; None for the ones nats-server reads and ignores (INFO, +OK)."""
        buf = self._buf
        pos = self._pos
        if self._pending is not None:
            return self._payload(buf, pos, self._pending)
        nl = buf.find(b"\n", pos)
        # The same bound with and without the LF in the buffer (the line plus an optional CR),
        # so the verdict does not depend on how the bytes were split across reads.
        if nl < 0:
            if len(buf) - pos > self.max_control_line + 1:
                raise ProtocolError("control line too long", errors.MAX_CONTROL_LINE)
            return NEED_DATA
        if nl - pos > self.max_control_line + 1:
            raise ProtocolError("control line too long", errors.MAX_CONTROL_LINE)
        line = bytes(buf[pos:nl])  # with its CR, if any: see _op_and_args
        self._pos = nl + 1
        head = line[:4].upper()
        # nats-server's state machine stops reading after PING/PONG: "PINGX" is a PING.
        if head == b"PING":
            return _PING
        if head == b"PONG":
            return _PONG
        op, rest = _op_and_args(line, drop=not self._split_args)
        self._split_args = False
        if rest is None:
            bare = op[:-1] if op.endswith(b"\r") else op
            if bare[:3] == b"+OK" or bare.upper() == b"CONNECT":
                return None if bare[:3] == b"+OK" else self._connect(b"")
            raise ProtocolError(f"unknown or incomplete operation {bare[:32]!r}")
        op = op.upper()
        if op == b"PUB":
            return self._pub(_args(rest, _BLANKS))
        if op == b"HPUB":
            return self._hpub(_args(rest, _BLANKS))
        if op == b"SUB":
            return self._sub(_args(rest))
        if op == b"UNSUB":
            return self._unsub(_args(rest))
        if op == b"CONNECT":
            return self._connect(rest)
        if op == b"INFO":
            # nats-server decodes a client's INFO (and then ignores it): bad JSON closes
            json_object(rest, "INFO")
            return None
        if op == b"+OK":
            return None
        if op == b"-ERR":
            raise ProtocolError("client sent -ERR", None)
        raise ProtocolError(f"unknown operation {line[:32]!r}")

    def _payload(
        self, buf: bytearray, pos: int, pending: tuple[bool, str, str | None, int, int]
    ) -> ClientEvent | NeedData:
        is_hpub, subject, reply, hdr, total = pending
        end = pos + total
        if len(buf) < end + 2:
            return NEED_DATA
        if buf[end] != 13 or buf[end + 1] != 10:
            raise ProtocolError("payload is not followed by CRLF", pub_subject=subject)
        self._pending = None
        self._pos = end + 2
        if is_hpub:
            return HPub(subject, reply, bytes(buf[pos : pos + hdr]), bytes(buf[pos + hdr : end]))
        return Pub(subject, reply, bytes(buf[pos:end]))

    def _check_payload(self, size: int) -> None:
        if size > self.max_payload:
            raise ProtocolError(
                f"payload of {size} bytes exceeds max_payload {self.max_payload}",
                errors.MAX_PAYLOAD,
            )

    def _pub(self, args: list[bytes]) -> ClientEvent | NeedData:
        if len(args) == 2:
            reply = None
        elif len(args) == 3:
            reply = text(args[1])
        else:
            raise ProtocolError("PUB takes <subject> [reply] <size>", None)
        size = _size(args[-1])
        self._check_payload(size)
        self._pending = (False, text(args[0]), reply, 0, size)
        return self._payload(self._buf, self._pos, self._pending)

    def _hpub(self, args: list[bytes]) -> ClientEvent | NeedData:
        if not self.headers:
            raise ProtocolError("HPUB before CONNECT enabled headers", None)
        if len(args) == 3:
            reply = None
        elif len(args) == 4:
            reply = text(args[1])
        else:
            raise ProtocolError("HPUB takes <subject> [reply] <hdr size> <total size>", None)
        hdr = _size(args[-2])
        total = _size(args[-1])
        if hdr > total:
            raise ProtocolError(f"header size {hdr} exceeds total size {total}", None)
        self._check_payload(total)
        self._pending = (True, text(args[0]), reply, hdr, total)
        return self._payload(self._buf, self._pos, self._pending)

    @staticmethod
    def _sub(args: list[bytes]) -> Sub:
        if len(args) == 2:
            return Sub(text(args[0]), None, text(args[1]))
        if len(args) == 3:
            return Sub(text(args[0]), text(args[1]), text(args[2]))
        raise ProtocolError("SUB takes <subject> [queue] <sid>", None)

    @staticmethod
    def _unsub(args: list[bytes]) -> Unsub:
        if len(args) == 1:
            return Unsub(text(args[0]))
        if len(args) == 2:
            # a bad max is parseSize's -1: nats-server then unsubscribes at once
            return Unsub(text(args[0]), _parse_size(args[1]))
        raise ProtocolError("UNSUB takes <sid> [max]", None)

    def _connect(self, rest: bytes) -> Connect:
        options = client_options(json_object(rest, "CONNECT"))
        self.headers = bool(options.get("headers", False))
        self._lines.clear()  # an HPUB line kept while headers were on is no longer canonical
        return Connect(options)

    def send(self, event: ServerEvent) -> bytes:
        """Wire bytes for a server event (see server_stub.encoding)."""
        return encode_event(event)
