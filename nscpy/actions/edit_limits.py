"""User permission and limit edits, shared by `edit user` and `edit signing-key` (scopes)."""

from __future__ import annotations

from dataclasses import dataclass, field

from nscpy.actions.errors import UsageProblem
from nscpy.actions.permspec import PermissionSpec
from nscpy.jwt import TimeRange, UserPermissionLimits
from nscpy.jwt.permissions import CONNECTION_TYPES, validate_cidr


def check_locale(name: str) -> None:
    """An IANA time zone name the server can load ('' clears it)."""
    if not name or name in ("UTC", "Local"):
        return
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):
        raise UsageProblem(
            f"--locale {name!r} is not an IANA time zone: use a name like Europe/Berlin or UTC"
        ) from None


def check_cidr(cidr: str) -> None:
    """Refuse a --source-network value that is not a CIDR."""
    if not validate_cidr(cidr):
        raise UsageProblem(f"--source-network {cidr!r} is not a CIDR like 10.0.0.0/8")


def _conn_type(value: str) -> str:
    upper = value.strip().upper()
    if upper not in CONNECTION_TYPES:
        raise UsageProblem(
            f"--conn-type {value!r} is not a connection type: "
            f"use one of {', '.join(CONNECTION_TYPES)}"
        )
    return upper


@dataclass
class LimitsEdit:
    """What the user-limit flags ask to change; None / empty means leave as is."""

    permissions: PermissionSpec = field(default_factory=PermissionSpec)
    subs: int | None = None
    data: int | None = None
    payload: int | None = None
    bearer: bool | None = None
    conn_types: list[str] = field(default_factory=list)
    rm_conn_types: list[str] = field(default_factory=list)
    source_networks: list[str] = field(default_factory=list)
    rm_source_networks: list[str] = field(default_factory=list)
    times: list[tuple[str, str]] = field(default_factory=list)
    rm_times: list[str] = field(default_factory=list)
    locale: str | None = None

    def is_empty(self) -> bool:
        """True when no limit or permission flag was given."""
        return (
            self.permissions.is_empty()
            and self.subs is None
            and self.data is None
            and self.payload is None
            and self.bearer is None
            and not (self.conn_types or self.rm_conn_types)
            and not (self.source_networks or self.rm_source_networks)
            and not (self.times or self.rm_times)
            and self.locale is None
        )

    def check(self) -> None:
        """Refuse bad CIDRs, connection types, time zones and negative counts up front."""
        self.permissions.check()
        for cidr in self.source_networks:
            check_cidr(cidr)
        for value in (*self.conn_types, *self.rm_conn_types):
            _conn_type(value)
        for label, count in (
            ("--subs", self.subs),
            ("--data", self.data),
            ("--payload", self.payload),
        ):
            if count is not None and count < -1:
                raise UsageProblem(f"{label} must be -1 (unlimited) or more, got {count}")
        if self.locale is not None:
            check_locale(self.locale)

    def apply(self, target: UserPermissionLimits) -> None:
        """Change target in place (after check())."""
        self.check()
        self.permissions.apply(target)
        if self.subs is not None:
            target.subs = self.subs
        if self.data is not None:
            target.data = self.data
        if self.payload is not None:
            target.payload = self.payload
        if self.bearer is not None:
            target.bearer_token = self.bearer
        gone = {_conn_type(v) for v in self.rm_conn_types}
        types = [t for t in target.allowed_connection_types if t.upper() not in gone]
        for value in self.conn_types:
            if _conn_type(value) not in types:
                types.append(_conn_type(value))
        target.allowed_connection_types = types
        src = [c for c in target.src if c not in self.rm_source_networks]
        src += [c for c in self.source_networks if c not in src]
        target.src = src
        starts = set(self.rm_times)
        ranges = [r for r in target.times if r.start not in starts]
        for start, end in self.times:
            if not any(r.start == start and r.end == end for r in ranges):
                ranges.append(TimeRange(start, end))
        target.times = ranges
        if self.locale is not None:
            target.times_location = self.locale
