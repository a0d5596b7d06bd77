"""WebSocket (RFC 6455) for NATS clients, server side, sans-I/O.

Theory of operation. A WebSocket client opens with an HTTP GET asking to upgrade; `handshake`
checks it as nats-server does and returns the 101 answer (or raises HttpError with the status
nats-server answers with). After that both directions are frames. NATS does not care where
messages start or end, so `FrameReader` hands back the payload bytes of data frames in order
(text, binary and continuation alike) for the NATS parser, and control frames as events. Client
frames must be masked; extensions (compression) are not negotiated, so RSV bits must be clear.
`frame` encodes what the server sends: unmasked, one binary frame per write.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from server_stub.httpwire import HttpError, Request

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_DATA = {CONTINUATION, TEXT, BINARY}
_CONTROL = {CLOSE, PING, PONG}

# close status codes (RFC 6455 section 7.4.1)
NORMAL = 1000
GOING_AWAY = 1001
PROTOCOL_ERROR = 1002
NO_STATUS = 1005
INVALID_PAYLOAD = 1007
POLICY_VIOLATION = 1008
TOO_BIG = 1009

MAX_FRAME = 64 * 1024 * 1024  # bigger than any NATS max_payload; refuses absurd lengths


class WebSocketError(ValueError):
    """The peer broke the framing rules: close with `status`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Data:
    """Payload bytes of a data frame: the next bytes of the NATS stream."""

    payload: bytes


@dataclass(frozen=True)
class Ping:
    """A ping: answer with a pong carrying the same payload."""

    payload: bytes


@dataclass(frozen=True)
class Pong:
    """A pong (nothing to do)."""

    payload: bytes


@dataclass(frozen=True)
class Close:
    """The peer closes: echo the status, then close the connection."""

    status: int
    reason: str


Event = Data | Ping | Pong | Close


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key."""
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def handshake(request: Request) -> bytes:
    """The 101 response to a valid upgrade request; HttpError with nats-server's status else."""
    if request.method != "GET":
        raise HttpError(405, "request method must be GET")
    if not request.headers.get("host"):
        raise HttpError(400, "'Host' missing in request")
    if "websocket" not in request.header_tokens("upgrade"):
        raise HttpError(400, "invalid value for header 'Upgrade'")
    if "upgrade" not in request.header_tokens("connection"):
        raise HttpError(400, "invalid value for header 'Connection'")
    key = request.headers.get("sec-websocket-key", "")
    if not key:
        raise HttpError(400, "key missing")
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError(key)
    except (binascii.Error, ValueError):
        raise HttpError(400, "key is not 16 bytes of base64") from None
    if "13" not in request.header_tokens("sec-websocket-version"):
        raise HttpError(400, "invalid version")
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
    ).encode("ascii")


def frame(payload: bytes, opcode: int = BINARY) -> bytes:
    """One final, unmasked frame (what a server sends)."""
    size = len(payload)
    first = 0x80 | opcode
    if size < 126:
        head = struct.pack("!BB", first, size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", first, 126, size)
    else:
        head = struct.pack("!BBQ", first, 127, size)
    return head + payload


def close_frame(status: int, reason: str = "") -> bytes:
    """A close frame with a status (and a reason, cut to fit a control frame)."""
    if status == NO_STATUS:  # 1005 must not be sent (RFC 6455 section 7.4.1)
        return frame(b"", CLOSE)
    body = struct.pack("!H", status) + reason.encode()[:123]
    return frame(body, CLOSE)


class FrameReader:
    """Decodes client frames from a byte stream."""

    def __init__(self, *, require_mask: bool = True) -> None:
        self._buffer = bytearray()
        self._require_mask = require_mask
        self._in_message = False  # a fragmented data message is under way
        self.closed = False  # a close frame was read: nothing after it counts

    def receive(self, data: bytes) -> list[Event]:
        """Add bytes; the complete frames' events, in order."""
        if self.closed:
            return []
        self._buffer += data
        events: list[Event] = []
        while not self.closed:
            event = self._next()
            if event is None:
                break
            if isinstance(event, Data) and not event.payload:
                continue
            events.append(event)
        return events

    def _next(self) -> Event | None:
        buf = self._buffer
        if len(buf) < 2:
            return None
        first, second = buf[0], buf[1]
        fin, rsv, opcode = first & 0x80, first & 0x70, first & 0x0F
        masked, size = second & 0x80, second & 0x7F
        if rsv:
            raise WebSocketError(PROTOCOL_ERROR, "RSV bits set without a negotiated extension")
        if opcode not in _DATA and opcode not in _CONTROL:
            raise WebSocketError(PROTOCOL_ERROR, f"unknown opcode {opcode}")
        if self._require_mask and not masked:
            raise WebSocketError(PROTOCOL_ERROR, "client frame not masked")
        pos = 2
        if size == 126:
            if len(buf) < 4:
                return None
            (size,) = struct.unpack_from("!H", buf, 2)
            pos = 4
        elif size == 127:
            if len(buf) < 10:
                return None
            (size,) = struct.unpack_from("!Q", buf, 2)
            pos = 10
        if opcode in _CONTROL and (size > 125 or not fin):
            raise WebSocketError(PROTOCOL_ERROR, "control frame fragmented or over 125 bytes")
        if size > MAX_FRAME:
            raise WebSocketError(TOO_BIG, f"frame of {size} bytes")
        mask = b""
        if masked:
            if len(buf) < pos + 4:
                return None
            mask = bytes(buf[pos : pos + 4])
            pos += 4
        if len(buf) < pos + size:
            return None
        payload = bytes(buf[pos : pos + size])
        del buf[: pos + size]
        if mask:
            payload = _unmask(payload, mask)
        return self._event(opcode, bool(fin), payload)

    def _event(self, opcode: int, fin: bool, payload: bytes) -> Event:
        if opcode in _DATA:
            if opcode == CONTINUATION and not self._in_message:
                raise WebSocketError(PROTOCOL_ERROR, "continuation frame without a message")
            if opcode != CONTINUATION and self._in_message:
                raise WebSocketError(PROTOCOL_ERROR, "new message before the last one ended")
            self._in_message = not fin
            return Data(payload)
        if opcode == PING:
            return Ping(payload)
        if opcode == PONG:
            return Pong(payload)
        self.closed = True
        if len(payload) < 2:
            return Close(NO_STATUS, "")
        (status,) = struct.unpack_from("!H", payload)
        try:
            reason = payload[2:].decode()
        except UnicodeDecodeError:
            return Close(INVALID_PAYLOAD, "invalid utf8 body in close frame")
        return Close(status, reason)


def _unmask(payload: bytes, mask: bytes) -> bytes:
    # XOR with the 4-byte key repeated: done on one big integer, not byte by byte
    size = len(payload)
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(
        size, "little"
    )


def mask_frame(payload: bytes, mask: bytes, opcode: int = BINARY, fin: bool = True) -> bytes:
    """A masked frame, as a client sends (for tests and tools)."""
    size = len(payload)
    first = (0x80 if fin else 0) | opcode
    if size < 126:
        head = struct.pack("!BB", first, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, size)
    return head + mask + _unmask(payload, mask)
