"""Formatting shared by the API: Go-style JSON, RFC 3339 nanosecond times, NATS header blocks."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from nscpy.gojson import go_dumps as go_json

__all__ = ["go_json", "go_time", "encode_headers", "decode_headers", "loads_request", "ZERO_TIME"]

ZERO_TIME = "0001-01-01T00:00:00Z"
_HEADER_LINE = b"NATS/1.0\r\n"


def go_time(ns: int) -> str:
    """Go's time.Time JSON form (RFC 3339, nanoseconds with trailing zeros trimmed, UTC)."""
    if ns <= 0:
        return ZERO_TIME
    seconds, frac = divmod(ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        stamp += "." + f"{frac:09d}".rstrip("0")
    return stamp + "Z"


def encode_headers(headers: dict[str, str] | None) -> bytes:
    """The NATS/1.0 header block as nats-server stores it; empty when there are no headers."""
    if not headers:
        return b""
    lines = [_HEADER_LINE]
    for key, value in headers.items():
        lines.append(f"{key}: {value}\r\n".encode())
    lines.append(b"\r\n")
    return b"".join(lines)


def decode_headers(block: bytes) -> dict[str, str] | None:
    """Parse a header block written by `encode_headers` (first value wins for repeated keys)."""
    if not block:
        return None
    out: dict[str, str] = {}
    for line in block.decode("utf-8", "surrogateescape").split("\r\n")[1:]:
        key, sep, value = line.partition(":")
        if sep and key and key not in out:
            out[key] = value.strip()
    return out


def loads_request(payload: bytes) -> dict[str, Any]:
    """Decode an API request body; an empty body is an empty request, like nats-server."""
    from server_stub.jetstream.errors import invalid_json

    if not payload.strip():
        return {}
    try:
        value = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_json(str(exc)) from None
    if not isinstance(value, dict):
        raise invalid_json(f"expected an object, got {type(value).__name__}")
    return value


def parse_go_time(text: object) -> int:
    """Nanoseconds since the epoch from Go's RFC 3339 form (any offset, up to 9 fraction digits).

    Raises ValueError on anything else; the zero time is 0.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected an RFC 3339 time, got {text!r}")
    if text == ZERO_TIME:
        return 0
    stamp, frac = text, ""
    main, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        frac, stamp = rest[:digits], main + rest[digits:]
    if stamp.endswith(("Z", "z")):
        stamp = stamp[:-1] + "+00:00"
    when = datetime.fromisoformat(stamp)
    if when.tzinfo is None:
        raise ValueError(f"time {text!r} has no zone")
    seconds = int(when.timestamp())
    return seconds * 1_000_000_000 + int((frac + "000000000")[:9] or 0)


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str) -> int:
    """Go's time.ParseDuration ("1h30m", "1.5s", "500ms") in nanoseconds; ValueError if not."""
    rest = text.strip()
    if not rest:
        raise ValueError("empty duration")
    total = 0
    while rest:
        match = _DURATION_PART.match(rest)
        if match is None:
            raise ValueError(f"invalid duration {text!r}")
        whole, _, frac = match.group(1).partition(".")
        unit = _DURATION_UNITS[match.group(2)]
        total += int(whole or 0) * unit
        if frac:  # exact: no float rounding for "1.000000001s"
            total += int(frac) * unit // 10 ** len(frac)
        rest = rest[match.end() :]
    return total


def go_duration(ns: int) -> str:
    """Go's time.Duration String() for a non-negative duration: "1h2m3.5s", "2s", "1.5ms"."""
    if ns == 0:
        return "0s"
    if ns < 1_000:
        return f"{ns}ns"
    for size, unit in ((1_000, "µs"), (1_000_000, "ms")):
        if ns < size * 1_000:
            return _decimal(ns, size) + unit
    hours, rest = divmod(ns, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    text = _decimal(rest, 1_000_000_000) + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    return f"{minutes}m{text}" if minutes else text


def _decimal(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    digits = len(str(unit)) - 1
    tail = f"{frac:0{digits}d}".rstrip("0")
    return f"{whole}.{tail}" if tail else str(whole)


def go_enum(body: dict[str, Any], key: str, choices: tuple[str, ...]) -> str:
    """An enum field as nats-server's decoder reads it: the first choice when absent or empty,
    one of `choices`, or JSInvalidJSONErr worded as Go words it."""
    from server_stub.jetstream.errors import invalid_json

    value = body.get(key)
    if value is None or value == "":
        return choices[0]
    if value not in choices:
        raise invalid_json(f"can not unmarshal {json.dumps(json.dumps(value))}")
    return str(value)
