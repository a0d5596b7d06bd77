"""Permissions and user limits shared by users, scoped signing keys and account defaults."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from nscpy.jwt._model import (
    Model,
    dec_bool,
    dec_int,
    dec_model,
    dec_model_list,
    dec_str,
    dec_str_list,
    enc_model,
    enc_model_list,
    fold_keys,
    wire,
)
from nscpy.jwt.subject import validate_subject
from nscpy.jwt.validation import ValidationResults, go_quote

__all__ = [
    "NO_LIMIT",
    "CONNECTION_TYPES",
    "Permission",
    "ResponsePermission",
    "Permissions",
    "TimeRange",
    "UserPermissionLimits",
    "validate_cidr",
    "wire_has_empty_arrays",
]

NO_LIMIT = -1
"""The value that means "unlimited" in every limit field."""

CONNECTION_TYPES = (
    "STANDARD",
    "WEBSOCKET",
    "LEAFNODE",
    "LEAFNODE_WS",
    "MQTT",
    "MQTT_WS",
    "IN_PROCESS",
)
"""The allowed_connection_types values nats-server knows."""

_TIME_OF_DAY = re.compile(r"([01]?[0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\Z")


@dataclass
class Permission(Model):
    """Allow and deny subject lists (a sub entry may be "subject queue")."""

    allow: list[str] = field(default_factory=list, metadata=wire(dec=dec_str_list, nullable=True))
    deny: list[str] = field(default_factory=list, metadata=wire(dec=dec_str_list, nullable=True))

    def is_empty(self) -> bool:
        """True when neither list has entries."""
        return not self.allow and not self.deny

    def validate(self, results: ValidationResults, *, permit_queue: bool) -> None:
        """Each entry is a subject, or "subject queue" where queues are permitted."""
        for entry in (*self.allow, *self.deny):
            _check_permission(results, entry, permit_queue)


def _check_permission(results: ValidationResults, entry: str, permit_queue: bool) -> None:
    parts = entry.split(" ")
    if len(parts) == 1:
        validate_subject(parts[0], results)
    elif len(parts) == 2:
        validate_subject(parts[0], results)
        validate_subject(parts[1], results)
        if not permit_queue:
            results.add_error(f'Permission Subject "{entry}" is not allowed to contain queue')
    else:
        results.add_error(f'Permission Subject "{entry}" contains too many spaces')


@dataclass
class ResponsePermission(Model):
    """Permission to publish to reply subjects: max messages and ttl in nanoseconds."""

    max: int = field(default=0, metadata=wire(dec=dec_int, omitempty=False))
    ttl: int = field(default=0, metadata=wire(dec=dec_int, omitempty=False))


@dataclass
class TimeRange(Model):
    """A daily window "HH:MM:SS"-"HH:MM:SS" in which a user may connect (may cross midnight)."""

    start: str = field(default="", metadata=wire(dec=dec_str))
    end: str = field(default="", metadata=wire(dec=dec_str))

    def validate(self, results: ValidationResults) -> None:
        """Both ends present and in Go's 15:04:05 layout."""
        if not self.start:
            results.add_error("time ranges start must contain a start")
        elif not _TIME_OF_DAY.match(self.start):
            results.add_error(f"start in time range is invalid {go_quote(self.start)}")
        if not self.end:
            results.add_error("time ranges end must contain an end")
        elif not _TIME_OF_DAY.match(self.end):
            results.add_error(f"end in time range is invalid {go_quote(self.end)}")


def validate_cidr(text: str) -> bool:
    """True when text parses as Go's net.ParseCIDR does (host bits may be set)."""
    address, slash, bits = text.partition("/")
    if not slash or not bits.isascii() or not bits.isdigit():
        return False
    try:
        ipaddress.ip_interface(f"{address}/{int(bits)}")
    except ValueError:
        return False
    # Go refuses leading zeros in a prefix length (e.g. "/08"), and zone suffixes
    return not (len(bits) > 1 and bits[0] == "0") and "%" not in address


def _dec_cidr_list(raw: Any, where: str) -> list[str]:
    # Go's CIDRList accepts a JSON array, or one comma-separated string (lower-cased, trimmed)
    if type(raw) is str:
        out: list[str] = []
        for item in raw.lower().split(","):
            item = item.strip()
            if item and item not in out:
                out.append(item)
        return out
    return dec_str_list(raw, where)


@dataclass
class Permissions(Model):
    """pub / sub permissions plus the optional response permission."""

    pub: Permission = field(
        default_factory=Permission,
        metadata=wire(enc=enc_model, dec=dec_model(Permission), omitempty=False),
    )
    sub: Permission = field(
        default_factory=Permission,
        metadata=wire(enc=enc_model, dec=dec_model(Permission), omitempty=False),
    )
    resp: ResponsePermission | None = field(
        default=None, metadata=wire(enc=enc_model, dec=dec_model(ResponsePermission), nullable=True)
    )

    def validate_permissions(self, results: ValidationResults) -> None:
        """Subjects are valid; queues only in sub."""
        self.sub.validate(results, permit_queue=True)
        self.pub.validate(results, permit_queue=False)


_ARRAY_KEYS = ("src", "times", "allowed_connection_types")


def wire_has_empty_arrays(raw: dict[str, Any]) -> bool:
    """True when raw carries a present-but-empty list, which Go's DeepEqual tells from nil."""
    if not _USER_NATS_KEYS.issuperset(raw):
        raw = fold_keys(raw, _LIMIT_KEYS)
    if type(raw.get("src")) is str:
        return True  # a CIDR string always makes a non-nil list
    if any(raw.get(key) == [] for key in _ARRAY_KEYS):
        return True
    for key in ("pub", "sub"):
        perm = raw.get(key)
        if type(perm) is dict:
            perm = fold_keys(perm, _PERMISSION_KEYS)
            if perm.get("allow") == [] or perm.get("deny") == []:
                return True
    return False


@dataclass
class UserPermissionLimits(Permissions):
    """What a user may do: permissions, source/time limits, counts, bearer and connection types."""

    src: list[str] = field(default_factory=list, metadata=wire(dec=_dec_cidr_list, nullable=True))
    times: list[TimeRange] = field(
        default_factory=list,
        metadata=wire(enc=enc_model_list, dec=dec_model_list(TimeRange), nullable=True),
    )
    times_location: str = field(default="", metadata=wire(dec=dec_str))
    subs: int = field(default=0, metadata=wire(dec=dec_int))
    data: int = field(default=0, metadata=wire(dec=dec_int))
    payload: int = field(default=0, metadata=wire(dec=dec_int))
    bearer_token: bool = field(default=False, metadata=wire(dec=dec_bool))
    proxy_required: bool = field(default=False, metadata=wire(dec=dec_bool))
    allowed_connection_types: list[str] = field(
        default_factory=list, metadata=wire(dec=dec_str_list, nullable=True)
    )
    wire_empty_arrays: bool = field(default=False, repr=False, compare=False)
    """Set on decode when the JSON held an empty array (non-nil in Go, so not empty)."""

    def load_json(self, raw: Any, where: str) -> None:
        """Overlay raw, remembering whether it held present-but-empty arrays."""
        super().load_json(raw, where)
        if wire_has_empty_arrays(raw):
            self.wire_empty_arrays = True

    def set_unlimited(self) -> None:
        """Reset limits to NewUserClaims' defaults: -1 subs/data/payload, no src/times."""
        self.src = []
        self.times = []
        self.times_location = ""
        self.subs = self.data = self.payload = NO_LIMIT

    def set_scoped(self) -> None:
        """Clear everything, as a user signed by a scoped signing key must be (Go's SetScoped)."""
        for name, value in UserPermissionLimits().__dict__.items():
            setattr(self, name, value)

    def has_empty_permissions(self) -> bool:
        """True when permissions and limits are all Go zero values (required for scoped users)."""
        return (
            not self.wire_empty_arrays
            and self.pub.is_empty()
            and self.sub.is_empty()
            and self.resp is None
            and not self.src
            and not self.times
            and not self.times_location
            and self.subs == 0
            and self.data == 0
            and self.payload == 0
            and not self.bearer_token
            and not self.proxy_required
            and not self.allowed_connection_types
        )

    def validate_limits(self, results: ValidationResults) -> None:
        """Permissions, CIDRs, time ranges and the time zone name (Go's User.Validate)."""
        self.validate_permissions(results)
        for cidr in self.src:
            if not validate_cidr(cidr):
                results.add_error(f"invalid cidr {go_quote(cidr)} in user src limits")
        for time_range in self.times:
            time_range.validate(results)
        if self.times_location and not _valid_zone(self.times_location):
            results.add_error(
                "could not parse iana time zone by name: unknown time zone " + self.times_location
            )


def _valid_zone(name: str) -> bool:
    if name in ("UTC", "Local"):
        return True
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(name)
    except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):
        return False
    return True


_PERMISSION_KEYS = frozenset(("allow", "deny"))
_LIMIT_KEYS = frozenset(f.name for f in UserPermissionLimits.FIELDS)
_USER_NATS_KEYS = _LIMIT_KEYS | {"issuer_account", "tags", "type", "version"}
