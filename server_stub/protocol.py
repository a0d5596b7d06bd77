"""Sans-I/O NATS client protocol, server side.

Theory of operation: bytes from the socket go in with `receive_data`; `next_event` returns one
client event at a time or NEED_DATA when the buffer holds no complete operation. Framing is
line-based: a control line up to LF (CR optional, as nats-server accepts), then for PUB/HPUB a
payload of the announced size followed by CRLF. Anything the real server refuses raises
ProtocolError carrying the -ERR text nats-server sends (or None where it closes silently); after
that the connection is dead and `next_event` keeps raising the same error. `send(event)` turns
a server event into wire bytes. No sockets, no clock, no asyncio here.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable
from typing import Any, Literal

from nscpy.gojson import go_dumps
from server_stub import errors
from server_stub.errors import ProtocolError
from server_stub.events import (
    ClientEvent,
    Connect,
    Err,
    HMsg,
    HPub,
    Info,
    Msg,
    Ok,
    Ping,
    Pong,
    Pub,
    ServerEvent,
    Sub,
    Unsub,
)

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
_OK_BYTES = b"+OK\r\n"


def text(raw: bytes) -> str:
    """Decode a wire token so that any byte string round-trips through `wire`."""
    return raw.decode("utf-8", "surrogateescape")


def wire(value: str) -> bytes:
    """Encode a token decoded by `text` back to its exact bytes."""
    return value.encode("utf-8", "surrogateescape")


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


def _op_and_args(line: bytes) -> tuple[bytes, bytes | None]:
    """A control line (LF removed) split as nats-server's parser does: the operation runs to
    the first space or tab (a vertical tab or form feed is part of it, so "SUB\\vx" is no SUB);
    the arguments follow that run of blanks. A CR anywhere in the arguments makes nats-server
    drop the line's last byte, assuming the CR ended it; None: no arguments."""
    blanks = _BLANKS.search(line)
    if blanks is None or blanks.start() == 0:  # nothing after the op, or a leading blank
        return line, None
    rest = line[blanks.end() :]
    if b"\r" in rest:
        rest = rest[:-1]
    return line[: blanks.start()], rest


def _args(rest: bytes, separators: re.Pattern[bytes] = _ARG_SEPARATORS) -> list[bytes]:
    """nats-server's splitArg: fields separated by spaces, tabs and CRs (PUB and HPUB have
    their own unrolled split, where a CR is part of a field: "PUB a 1\\rX" has no valid size)."""
    return [arg for arg in separators.split(rest) if arg]


# CONNECT fields with the JSON types of nats-server's ClientOpts (Go's json refuses a CONNECT
# whose known field has another type, and nats-server then closes without an -ERR). Go also
# matches field names case-insensitively, so `{"Verbose":false}` counts as `verbose`.
_BOOL_FIELDS = ("echo", "verbose", "pedantic", "tls_required", "new_account", "headers")
_STRING_FIELDS = (
    "nkey", "jwt", "sig", "auth_token", "user", "pass", "name", "lang", "version", "account",
    "remote_account", "proxy_sig",
)  # fmt: skip
_CONNECT_FIELDS: dict[str, str] = {
    **{name: "bool" for name in (*_BOOL_FIELDS, "no_responders")},
    **{name: "string" for name in _STRING_FIELDS},
    "protocol": "int",
    "import": "permission",
    "export": "permission",
}
_INT_RANGE = range(-(2**63), 2**63)


def _has_type(value: Any, kind: str) -> bool:
    if kind == "bool":
        return type(value) is bool
    if kind == "string":
        return type(value) is str
    if kind == "int":  # a JSON integer literal that fits Go's int (1.0 and 1e0 do not)
        return type(value) is int and value in _INT_RANGE
    # *SubjectPermission: {"allow": [...], "deny": [...]}, each a list of strings or null
    if not isinstance(value, dict):
        return False
    for key, item in value.items():
        if key.lower() in ("allow", "deny") and item is not None:
            if not (isinstance(item, list) and all(type(x) is str for x in item)):
                return False
    return True


def client_options(raw: Any) -> dict[str, Any]:
    """CONNECT's JSON as nats-server reads it into ClientOpts: known fields type-checked and
    named in lower case, nulls dropped (the default stays), other fields kept as they are."""
    if raw is None:  # Go unmarshals `null` into a struct as "no fields"
        return {}
    if not isinstance(raw, dict):
        raise ProtocolError("CONNECT must carry a JSON object", None)
    options: dict[str, Any] = {}
    for key, value in raw.items():
        name = key if key in _CONNECT_FIELDS else key.lower()
        kind = _CONNECT_FIELDS.get(name)
        if kind is None:
            options[key] = value
            continue
        if value is None:
            continue
        if not _has_type(value, kind):
            # the type only: the value may be a password or a seed
            got = type(value).__name__
            raise ProtocolError(f"CONNECT field {key!r} must be a {kind}, got a {got}", None)
        options[name] = value
    return options


# The canonical PUB/HPUB lines every client library writes: upper case, single spaces, no tab,
# a CR only before the LF. The fast path takes only these; any other form (and every error)
# goes through next_event, so both paths read the same bytes the same way.
_FAST_PUB = re.compile(rb"PUB ([^ \t\r\n]+)(?: ([^ \t\r\n]+))? ([0-9]{1,9})\r\n")
_FAST_HPUB = re.compile(rb"HPUB ([^ \t\r\n]+)(?: ([^ \t\r\n]+))? ([0-9]{1,9}) ([0-9]{1,9})\r\n")
_P, _H = ord("P"), ord("H")

# handle(subject, reply, headers or None, payload) -> whether to read on
PubHandler = Callable[[str, "str | None", "bytes | None", bytes], bool]


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

    def receive_data(self, data: bytes) -> None:
        """Append bytes read from the socket."""
        if self._pos and self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        elif self._pos > _COMPACT_AT:
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    def next_event(self) -> ClientEvent | NeedData:
        """The next complete client operation, or NEED_DATA; raises ProtocolError."""
        if self._error is not None:
            raise self._error
        try:
            return self._next()
        except ProtocolError as exc:
            self._error = exc
            raise

    def read_pubs(self, handle: PubHandler) -> None:
        """Hand a run of complete, canonical PUB/HPUB operations at the front of the buffer to
        `handle` without building events, until it returns False or something else comes.

        Whatever this leaves (another operation, an incomplete one, a lenient form, an error)
        is for `next_event`, which reads it exactly as it would have: the fast path decides
        nothing the event path would decide differently.
        """
        if self._error is not None or self._pending is not None:
            return
        buf = self._buf
        pos = self._pos
        size = len(buf)
        limit = self.max_control_line + 2  # the line with its CRLF, as _next_op bounds it
        pub_match = _FAST_PUB.match
        hpub_match = _FAST_HPUB.match
        subjects = _SUBJECTS
        while pos < size:
            first = buf[pos]
            if first == _P:
                m = pub_match(buf, pos)
                if m is None:
                    return
                start = m.end()
                if start - pos > limit:
                    return
                subject_b, reply_b, total_b = m.groups()
                hdr = 0
            elif first == _H and self.headers:
                m = hpub_match(buf, pos)
                if m is None:
                    return
                start = m.end()
                if start - pos > limit:
                    return
                subject_b, reply_b, hdr_b, total_b = m.groups()
                hdr = int(hdr_b)
            else:
                return
            total = int(total_b)
            end = start + total
            if total > self.max_payload or hdr > total or end + 2 > size:
                return
            if buf[end] != 13 or buf[end + 1] != 10:
                return
            subject = subjects.get(subject_b)
            if subject is None:
                if len(subjects) > 4096:
                    subjects.clear()
                subject = subjects[subject_b] = text(subject_b)
            reply = None if reply_b is None else text(reply_b)
            if first == _P:
                headers = None
                payload = bytes(buf[start:end])
            else:
                headers = bytes(buf[start : start + hdr])
                payload = bytes(buf[start + hdr : end])
            pos = self._pos = end + 2
            if not handle(subject, reply, headers, payload):
                return

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
        op, rest = _op_and_args(line)
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
            _json_object(rest, "INFO")
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
        options = client_options(_json_object(rest, "CONNECT"))
        self.headers = bool(options.get("headers", False))
        return Connect(options)

    def send(self, event: ServerEvent) -> bytes:
        """Wire bytes for a server event."""
        kind = type(event)
        if kind is Msg:
            assert isinstance(event, Msg)
            return encode_msg(wire(event.subject), wire(event.sid), event.reply, event.payload)
        if kind is HMsg:
            assert isinstance(event, HMsg)
            return encode_hmsg(
                wire(event.subject), wire(event.sid), event.reply, event.headers, event.payload
            )
        if kind is Ping:
            return b"PING\r\n"
        if kind is Pong:
            return b"PONG\r\n"
        if kind is Ok:
            return _OK_BYTES
        if kind is Err:
            assert isinstance(event, Err)
            return b"-ERR '" + wire(event.text) + b"'\r\n"
        if kind is Info:
            assert isinstance(event, Info)
            # nats-server writes a space before CRLF after the INFO JSON.
            return b"INFO " + go_dumps(event.fields).encode() + b" \r\n"
        raise TypeError(f"cannot send {kind.__name__} from the server")


def _json_object(raw: bytes, op: str) -> Any:
    """The JSON argument of CONNECT or INFO: an object or null, as Go unmarshals into a struct.

    Python's decoder gives up at about 1,000 levels of nesting where Go's allows 10,000; such a
    CONNECT is refused here and accepted by nats-server (a deliberate, documented difference).
    """
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"{op} is not valid JSON: {str(exc)[:80]}", None) from None
    if value is not None and not isinstance(value, dict):
        raise ProtocolError(f"{op} must carry a JSON object", None)
    return value


def encode_msg(subject: bytes, sid: bytes, reply: str | None, payload: bytes) -> bytes:
    """MSG bytes; the router calls this directly on the hot path."""
    if reply is None:
        return b"MSG %s %s %d\r\n%s\r\n" % (subject, sid, len(payload), payload)
    return b"MSG %s %s %s %d\r\n%s\r\n" % (subject, sid, wire(reply), len(payload), payload)


def encode_hmsg(
    subject: bytes, sid: bytes, reply: str | None, headers: bytes, payload: bytes
) -> bytes:
    """HMSG bytes."""
    hdr = len(headers)
    total = hdr + len(payload)
    if reply is None:
        head = b"HMSG %s %s %d %d\r\n" % (subject, sid, hdr, total)
    else:
        head = b"HMSG %s %s %s %d %d\r\n" % (subject, sid, wire(reply), hdr, total)
    return head + headers + payload + b"\r\n"


def encode_client(event: ClientEvent) -> bytes:
    """Client-side wire bytes for an event (for tests, benchmarks and internal clients)."""
    if isinstance(event, Pub):
        reply = b" " + wire(event.reply) if event.reply is not None else b""
        return b"PUB %s%s %d\r\n%s\r\n" % (
            wire(event.subject),
            reply,
            len(event.payload),
            event.payload,
        )
    if isinstance(event, HPub):
        reply = b" " + wire(event.reply) if event.reply is not None else b""
        hdr = len(event.headers)
        total = hdr + len(event.payload)
        body = event.headers + event.payload
        return b"HPUB %s%s %d %d\r\n%s\r\n" % (wire(event.subject), reply, hdr, total, body)
    if isinstance(event, Sub):
        queue = b" " + wire(event.queue) if event.queue is not None else b""
        return b"SUB %s%s %s\r\n" % (wire(event.subject), queue, wire(event.sid))
    if isinstance(event, Unsub):
        if event.max_msgs is None:
            return b"UNSUB %s\r\n" % wire(event.sid)
        return b"UNSUB %s %d\r\n" % (wire(event.sid), event.max_msgs)
    if isinstance(event, Connect):
        return b"CONNECT " + json.dumps(event.options).encode() + b"\r\n"
    if isinstance(event, Ping):
        return b"PING\r\n"
    return b"PONG\r\n"
