"""Protocol events, one frozen dataclass per NATS client-protocol operation.

Client → server: Connect, Pub, HPub, Sub, Unsub, Ping, Pong.
Server → client: Info, Msg, HMsg, Ping, Pong, Ok, Err.
Subjects are `str` decoded as UTF-8 with surrogateescape, so any byte string round-trips.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Connect:
    """CONNECT {json}: the client's options (verbose, pedantic, jwt, sig, user, ...)."""

    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Info:
    """INFO {json}: server identity and capabilities, in Go's field order."""

    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Pub:
    """PUB <subject> [reply] <size>: a plain message."""

    subject: str
    reply: str | None
    payload: bytes


@dataclass(frozen=True, slots=True)
class HPub:
    """HPUB <subject> [reply] <hdr size> <total size>: a message with a NATS/1.0 header block."""

    subject: str
    reply: str | None
    headers: bytes
    payload: bytes


@dataclass(frozen=True, slots=True)
class Sub:
    """SUB <subject> [queue] <sid>."""

    subject: str
    queue: str | None
    sid: str


@dataclass(frozen=True, slots=True)
class Unsub:
    """UNSUB <sid> [max]: remove now, or after `max` more deliveries."""

    sid: str
    max_msgs: int | None = None


@dataclass(frozen=True, slots=True)
class Msg:
    """MSG <subject> <sid> [reply] <size>; reply "" keeps the empty field (two spaces)."""

    subject: str
    sid: str
    reply: str | None
    payload: bytes


@dataclass(frozen=True, slots=True)
class HMsg:
    """HMSG <subject> <sid> [reply] <hdr size> <total size>."""

    subject: str
    sid: str
    reply: str | None
    headers: bytes
    payload: bytes


@dataclass(frozen=True, slots=True)
class Ping:
    """PING."""


@dataclass(frozen=True, slots=True)
class Pong:
    """PONG."""


@dataclass(frozen=True, slots=True)
class Ok:
    """+OK (sent to verbose clients)."""


@dataclass(frozen=True, slots=True)
class Err:
    """-ERR '<text>'."""

    text: str


ClientEvent = Connect | Pub | HPub | Sub | Unsub | Ping | Pong
ServerEvent = Info | Msg | HMsg | Ping | Pong | Ok | Err
