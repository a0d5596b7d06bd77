"""Parsers for the value syntaxes nsc's flags accept: times, durations, sizes, time ranges.

Pure: `now` is always a parameter. Each parser raises InvalidValue with a message that quotes
the bad value and names what would be valid.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from nscpy.errors import NscValueError

__all__ = [
    "InvalidValue",
    "parse_expiry",
    "parse_at",
    "parse_go_duration",
    "format_go_duration",
    "parse_number",
    "parse_time_range",
    "add_relative",
]


class InvalidValue(NscValueError):
    """A flag value that does not parse."""


_RELATIVE = re.compile(r"^([+-]?\d+)([mhdwMy])$", re.ASCII)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
_DATETIME_UTC = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC$", re.ASCII)


def add_relative(now: int, count: int, unit: str) -> int:
    """now + count units; months and years follow the calendar like Go's AddDate."""
    if unit == "m":
        return now + count * 60
    if unit == "h":
        return now + count * 3600
    if unit == "d":
        return now + count * 86400
    if unit == "w":
        return now + count * 7 * 86400
    base = dt.datetime.fromtimestamp(now, tz=dt.timezone.utc)
    months = count if unit == "M" else count * 12
    total = base.year * 12 + (base.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    # Go's AddDate normalises overflowing days (Jan 31 + 1M = Mar 3); do the same
    day_overflow = base.day - calendar.monthrange(year, month)[1]
    day = min(base.day, calendar.monthrange(year, month)[1])
    moved = base.replace(year=year, month=month, day=day)
    if day_overflow > 0:
        moved += dt.timedelta(days=day_overflow)
    return int(moved.timestamp())


def parse_expiry(text: str, now: int) -> int:
    """nsc's --start/--expiry: 0, YYYY-MM-DD, 'YYYY-MM-DD HH:MM:SS UTC', or N + m/h/d/w/M/y."""
    value = text.strip()
    if value in ("0", ""):
        return 0
    if m := _RELATIVE.match(value):
        return add_relative(now, int(m.group(1)), m.group(2))
    try:
        if _DATE.match(value):
            day = dt.datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=dt.timezone.utc)
            return int(day.timestamp())
        if m := _DATETIME_UTC.match(value):
            when = dt.datetime.strptime(f"{m.group(1)} {m.group(2)}", "%Y-%m-%d %H:%M:%S")
            return int(when.replace(tzinfo=dt.timezone.utc).timestamp())
    except ValueError:
        raise InvalidValue(f"{text!r} is not a valid date") from None
    raise InvalidValue(
        f"{text!r} is not a valid time: use 0, YYYY-MM-DD, 'YYYY-MM-DD HH:MM:SS UTC' "
        "or a relative count like 30d, 12h, 1M, 1y (units m h d w M y)"
    )


def parse_at(text: str, now: int) -> int:
    """Revocation --at: 0 (now), Unix seconds, or an RFC 3339 timestamp."""
    value = text.strip()
    if value in ("0", ""):
        return now
    if value.isascii() and value.isdigit():
        return int(value)
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidValue(
            f"{text!r} is not a valid time: use 0 (now), Unix seconds or RFC 3339 "
            "(2026-01-02T15:04:05Z)"
        ) from None
    if when.tzinfo is None:
        raise InvalidValue(f"{text!r} has no time zone: add Z or an offset such as +01:00")
    return int(when.timestamp())


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)", re.ASCII)


def parse_go_duration(text: str) -> int:
    """A Go time.Duration string ('5s', '1m30s', '250ms', '-1h') in nanoseconds."""
    value = text.strip()
    sign = 1
    if value[:1] in "+-" and value:
        sign = -1 if value[0] == "-" else 1
        value = value[1:]
    if value == "0":
        return 0
    pos, total = 0, 0.0
    while pos < len(value):
        m = _DURATION_PART.match(value, pos)
        if m is None:
            raise InvalidValue(
                f"{text!r} is not a valid duration: use a number with a unit, "
                "e.g. 5s, 1m30s, 250ms, 2h (units ns us ms s m h)"
            )
        total += float(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    if not value:
        raise InvalidValue("empty duration: use e.g. 5s, 1m30s")
    return sign * int(round(total))


def format_go_duration(ns: int) -> str:
    """Nanoseconds as Go prints a Duration (1m30s, 250ms, 0s) for readable output."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return f"{sign}{ns / size:g}{unit}"
    hours, rem = divmod(ns, 3600 * 1_000_000_000)
    minutes, rem = divmod(rem, 60 * 1_000_000_000)
    seconds = rem / 1_000_000_000
    out = f"{hours}h" if hours else ""
    if hours or minutes:
        out += f"{minutes}m"
    return f"{sign}{out}{seconds:g}s"


_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "m": 1000**2,
    "mb": 1000**2,
    "g": 1000**3,
    "gb": 1000**3,
    "t": 1000**4,
    "tb": 1000**4,
    "p": 1000**5,
    "pb": 1000**5,
    "ki": 1024,
    "kib": 1024,
    "mi": 1024**2,
    "mib": 1024**2,
    "gi": 1024**3,
    "gib": 1024**3,
    "ti": 1024**4,
    "tib": 1024**4,
    "pi": 1024**5,
    "pib": 1024**5,
}
_SIZE = re.compile(r"^(-?\d+)\s*([A-Za-z]*)$", re.ASCII)
_INT64_MAX = 2**63 - 1


def parse_number(text: str) -> int:
    """An integer limit, maybe with a size unit (1k = 1000, 1KiB = 1024, 10GB); -1 = unlimited."""
    m = _SIZE.match(text.strip())
    if m is None:
        raise InvalidValue(
            f"{text!r} is not a valid number: use an integer, -1 for unlimited, "
            "or a size such as 512, 1k, 10MB, 1GiB"
        )
    count, unit = int(m.group(1)), m.group(2).lower()
    if unit not in _SIZE_UNITS:
        raise InvalidValue(f"{text!r} has an unknown unit {m.group(2)!r}: use k, MB, GiB, ...")
    if count < -1 or (count == -1 and unit):
        raise InvalidValue(f"{text!r}: limits are -1 (unlimited) or a non-negative number")
    value = count * _SIZE_UNITS[unit]
    if value > _INT64_MAX:
        raise InvalidValue(f"{text!r} is larger than a 64-bit limit")
    return value


_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$", re.ASCII)


def parse_time_range(text: str) -> tuple[str, str]:
    """A user --time window 'HH:MM:SS-HH:MM:SS' (it may cross midnight)."""
    parts = text.strip().split("-")
    if len(parts) != 2 or not all(_CLOCK.match(p) for p in parts):
        raise InvalidValue(
            f"{text!r} is not a valid time window: use HH:MM:SS-HH:MM:SS, e.g. 08:00:00-17:30:00"
        )
    return parts[0], parts[1]
