"""Wire bytes for protocol events: the one encoder for everything the server sends.

`encode_event` (what `ServerConnection.send` returns) turns a server event (Info, Msg, HMsg,
Ping, Pong, Ok, Err) into bytes. The hot paths skip the event object but not the encoding:
delivery calls `encode_msg`/`encode_hmsg` with subject and sid bytes it caches, and the
constant operations are the same pre-encoded bytes `encode_event` returns. `encode_client` is
the client side, for tests, benchmarks and internal clients. Tokens are `str` decoded with
surrogateescape (`text`), so any byte string round-trips through `wire`.
"""

from __future__ import annotations

import json

from nscpy.gojson import go_dumps
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

OK_BYTES = b"+OK\r\n"
PING_BYTES = b"PING\r\n"
PONG_BYTES = b"PONG\r\n"


def text(raw: bytes) -> str:
    """Decode a wire token so that any byte string round-trips through `wire`."""
    return raw.decode("utf-8", "surrogateescape")


def wire(value: str) -> bytes:
    """Encode a token decoded by `text` back to its exact bytes."""
    return value.encode("utf-8", "surrogateescape")


def encode_err(text: str) -> bytes:
    """-ERR bytes; nats-server quotes the text in single quotes."""
    return b"-ERR '" + wire(text) + b"'\r\n"


def encode_event(event: ServerEvent) -> bytes:
    """Wire bytes for a server event (ServerConnection.send)."""
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
        return PING_BYTES
    if kind is Pong:
        return PONG_BYTES
    if kind is Ok:
        return OK_BYTES
    if kind is Err:
        assert isinstance(event, Err)
        return encode_err(event.text)
    if kind is Info:
        assert isinstance(event, Info)
        # nats-server writes a space before CRLF after the INFO JSON.
        return b"INFO " + go_dumps(event.fields).encode() + b" \r\n"
    raise TypeError(f"cannot send {kind.__name__} from the server")


def encode_msg(subject: bytes, sid: bytes, reply: str | None, payload: bytes) -> bytes:
    """MSG bytes; delivery calls this directly with cached subject and sid bytes."""
    if reply is None:
        return b"MSG %s %s %d\r\n%s\r\n" % (subject, sid, len(payload), payload)
    return b"MSG %s %s %s %d\r\n%s\r\n" % (subject, sid, wire(reply), len(payload), payload)


def msg_heads(subject: bytes, sid: bytes) -> tuple[bytes, bytes]:
    """The MSG and HMSG lines up to their reply field (`MSG <subject> <sid> `). A PUB's bytes
    from its first size field to the end of its payload are exactly how its MSG (an HPUB's:
    its HMSG) ends, so the direct delivery path (Client._publish_raw) sends head + tail, or
    head + reply + b" " + tail, byte for byte what encode_msg/encode_hmsg make."""
    msg = b"MSG %s %s " % (subject, sid)
    return msg, b"H" + msg


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
        return PING_BYTES
    return PONG_BYTES
