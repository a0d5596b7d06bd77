"""Typed reading of a spec tree: the known keys of each table and a reader that records problems.

Each read takes the raw value and its key path; a problem is recorded with its position (not
raised), so one run reports all of them. Unknown keys are refused, never ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from nscpy.jwt import ValidationResults
from nscpy.jwt.permissions import CONNECTION_TYPES, validate_cidr
from nscpy.jwt.subject import validate_subject
from nscpy.keys import is_valid_public_key
from nscpy.spec.document import Document
from nscpy.spec.model import UserLimits, UserSpec, When
from nscpy.spec.permissions import Perms
from nscpy.spec.positions import KeyPath
from nscpy.store.errors import InvalidName
from nscpy.store.layout import validate_name
from nscpy.values import InvalidValue, parse_expiry, parse_go_duration, parse_number

TOP_KEYS = frozenset({"operator", "templates", "accounts"})
OPERATOR_KEYS = frozenset(
    {
        "name",
        "signing_keys",
        "strict",
        "service_urls",
        "account_server_url",
        "system_account",
        "tags",
        "start",
        "expiry",
    }
)
LIMIT_KINDS: dict[str, str] = {
    "conns": "int",
    "leaf_conns": "int",
    "data": "size",
    "payload": "size",
    "subscriptions": "int",
    "imports": "int",
    "exports": "int",
    "wildcard_exports": "bool",
    "disallow_bearer": "bool",
}
JETSTREAM_KINDS: dict[str, str] = {
    "mem_storage": "size",
    "disk_storage": "size",
    "streams": "int",
    "consumer": "int",
    "max_ack_pending": "int",
    "max_mem_stream": "size",
    "max_disk_stream": "size",
    "max_bytes_required": "bool",
}
PERM_KEYS = frozenset(
    {
        "allow_pub",
        "allow_sub",
        "allow_pubsub",
        "deny_pub",
        "deny_sub",
        "deny_pubsub",
        "allow_pub_response",
        "response_ttl",
    }
)
USER_LIMIT_KEYS = PERM_KEYS | {
    "subs",
    "data",
    "payload",
    "bearer",
    "src",
    "times",
    "locale",
    "conn_types",
}
USER_KEYS = USER_LIMIT_KEYS | {"role", "tags", "start", "expiry"}
USER_SET_KEYS = USER_KEYS | {"name", "count", "first"}
SIGNING_KEY_KEYS = USER_LIMIT_KEYS | {"key", "role", "description"}
EXPORT_KEYS = frozenset(
    {
        "name",
        "subject",
        "type",
        "private",
        "response_type",
        "response_threshold",
        "latency",
        "sampling",
        "allow_trace",
        "account_token_position",
        "advertise",
        "description",
        "info_url",
        "revocations",
    }
)
IMPORT_KEYS = frozenset(
    {
        "name",
        "src_account",
        "remote_subject",
        "local_subject",
        "type",
        "share",
        "allow_trace",
        "token",
    }
)
ACCOUNT_KEYS = frozenset(
    {
        "use",
        "description",
        "info_url",
        "tags",
        "start",
        "expiry",
        "limits",
        "jetstream",
        "jetstream_tiers",
        "default_permissions",
        "signing_keys",
        "exports",
        "imports",
        "mappings",
        "auth_callout",
        "trace",
        "revocations",
        "users",
        "user_sets",
    }
)
_RELATIVE = re.compile(r"^([+-]?\d+)([mhdwMy])$", re.ASCII)
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$", re.ASCII)


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


class Reader:
    """Typed access to the merged tree; problems go to the document's issue list."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def bad(self, path: KeyPath, message: str) -> None:
        self.doc.issue(path, message)

    def table(
        self, value: Any, path: KeyPath, allowed: frozenset[str], what: str
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.bad(path, f"{what} must be a table, got {type_name(value)}")
            return {}
        for key in value:
            if key not in allowed:
                self.bad(
                    (*path, key),
                    f"unknown key {key!r} in {what} (known: {', '.join(sorted(allowed))})",
                )
        return value

    def string(self, t: dict[str, Any], key: str, path: KeyPath, default: str = "") -> str:
        value = t.get(key, default)
        if not isinstance(value, str):
            self.bad((*path, key), f"{key} must be a string, got {type_name(value)}")
            return default
        return value

    def boolean(self, t: dict[str, Any], key: str, path: KeyPath) -> bool:
        value = t.get(key, False)
        if not isinstance(value, bool):
            self.bad((*path, key), f"{key} must be true or false, got {type_name(value)}")
            return False
        return value

    def integer(
        self, t: dict[str, Any], key: str, path: KeyPath, *, low: int | None = None
    ) -> int | None:
        if key not in t:
            return None
        value = t[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad((*path, key), f"{key} must be an integer, got {type_name(value)}")
            return None
        if low is not None and value < low:
            self.bad((*path, key), f"{key} must be at least {low}, got {value}")
            return None
        return value

    def size(self, t: dict[str, Any], key: str, path: KeyPath) -> int | None:
        if key not in t:
            return None
        value = t[key]
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            self.bad((*path, key), f'{key} must be an integer or a size like "1G"')
            return None
        try:
            return parse_number(str(value))
        except InvalidValue as exc:
            self.bad((*path, key), f"{key}: {exc}")
            return None

    def strings(self, t: dict[str, Any], key: str, path: KeyPath) -> list[str]:
        value = t.get(key, [])
        if not isinstance(value, list):
            self.bad((*path, key), f"{key} must be an array of strings, got {type_name(value)}")
            return []
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.bad((*path, key, i), f"{key} entries must be strings, got {type_name(item)}")
            else:
                out.append(item)
        return out

    def duration(self, t: dict[str, Any], key: str, path: KeyPath) -> int | None:
        if key not in t:
            return None
        value = t[key]
        if not isinstance(value, str):
            self.bad((*path, key), f'{key} must be a duration string like "5s"')
            return None
        try:
            ns = parse_go_duration(value)
        except InvalidValue as exc:
            self.bad((*path, key), f"{key}: {exc}")
            return None
        if ns < 0:
            self.bad((*path, key), f"{key} must not be negative, got {value!r}")
            return None
        return ns

    def when(self, t: dict[str, Any], key: str, path: KeyPath) -> When:
        if key not in t:
            return When()
        value = t[key]
        where = (*path, key)
        if isinstance(value, bool):
            self.bad(where, f'{key} must be 0, a date or a duration like "90d"')
            return When()
        if isinstance(value, int):
            if value < 0:
                self.bad(where, f"{key} must be 0 or a Unix time, got {value}")
                return When()
            return When(absolute=value)
        if isinstance(value, dt.datetime):
            when = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
            return When(absolute=int(when.timestamp()))
        if isinstance(value, dt.date):
            midnight = dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
            return When(absolute=int(midnight.timestamp()))
        if not isinstance(value, str):
            self.bad(where, f'{key} must be 0, a date or a duration like "90d"')
            return When()
        m = _RELATIVE.match(value.strip())
        if m:
            if int(m.group(1)) <= 0:
                self.bad(where, f"{key} {value!r}: a relative time must be positive")
                return When()
            return When(count=int(m.group(1)), unit=m.group(2))
        try:
            return When(absolute=parse_expiry(value, 0))
        except InvalidValue as exc:
            self.bad(where, f"{key}: {exc}")
            return When()

    def subjects(self, t: dict[str, Any], key: str, path: KeyPath, *, queue: bool) -> list[str]:
        out = self.strings(t, key, path)
        for i, entry in enumerate(out):
            parts = entry.split(" ")
            if len(parts) > 2 or (len(parts) == 2 and not queue):
                hint = "a subject and one queue name" if queue else "a subject without spaces"
                self.bad((*path, key, i), f"{key} {entry!r}: expected {hint}")
                continue
            self.subject(parts[0], (*path, key, i), key)
        return out

    def subject(self, subject: str, path: KeyPath, label: str) -> bool:
        results = ValidationResults()
        validate_subject(subject, results)
        tokens = subject.split(".")
        if not results.is_empty():
            self.bad(path, f"{label} {subject!r}: {results.issues[0].description}")
            return False
        if ">" in tokens[:-1] or any(">" in t and t != ">" for t in tokens):
            self.bad(path, f"{label} {subject!r}: '>' may only be the last token")
            return False
        if any("*" in t and t != "*" for t in tokens):
            self.bad(path, f"{label} {subject!r}: '*' must be a whole token")
            return False
        return True

    def name(self, name: str, path: KeyPath, kind: str) -> bool:
        try:
            validate_name(name, kind)
        except InvalidName as exc:
            self.bad(path, str(exc))
            return False
        return True

    def revocations(self, t: dict[str, Any], path: KeyPath, role: str) -> dict[str, int]:
        raw = t.get("revocations", {})
        if not isinstance(raw, dict):
            self.bad((*path, "revocations"), "revocations must be a table of KEY = unix time")
            return {}
        out: dict[str, int] = {}
        for key, value in raw.items():
            where = (*path, "revocations", key)
            if key != "*" and not (is_valid_public_key(key) and key.startswith(role)):
                self.bad(where, f"revocation key {key!r} is not a {role}... public key or '*'")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                self.bad(where, f"revocation of {key} must be a Unix time (integer)")
            else:
                out[key] = value
        return out

    # -- permissions and limits --------------------------------------------------------------
    def perms(self, t: dict[str, Any], path: KeyPath) -> Perms:
        p = Perms(
            allow_pub=self.subjects(t, "allow_pub", path, queue=False),
            allow_sub=self.subjects(t, "allow_sub", path, queue=True),
            allow_pubsub=self.subjects(t, "allow_pubsub", path, queue=False),
            deny_pub=self.subjects(t, "deny_pub", path, queue=False),
            deny_sub=self.subjects(t, "deny_sub", path, queue=True),
            deny_pubsub=self.subjects(t, "deny_pubsub", path, queue=False),
            response_max=self.integer(t, "allow_pub_response", path, low=1),
            response_ttl_ns=self.duration(t, "response_ttl", path),
        )
        return p

    def user_limits(self, t: dict[str, Any], path: KeyPath) -> UserLimits:
        limits = UserLimits(
            perms=self.perms(t, path),
            subs=self.integer(t, "subs", path, low=-1),
            data=self.size(t, "data", path),
            payload=self.size(t, "payload", path),
            bearer=self.boolean(t, "bearer", path),
            src=self.strings(t, "src", path),
            locale=self.string(t, "locale", path),
        )
        for i, cidr in enumerate(limits.src):
            if not validate_cidr(cidr):
                self.bad((*path, "src", i), f"src {cidr!r} is not a CIDR like 10.0.0.0/8")
        for i, window in enumerate(self.strings(t, "times", path)):
            parts = window.split("-")
            if len(parts) != 2 or not all(_CLOCK.match(p) for p in parts):
                self.bad(
                    (*path, "times", i),
                    f"times {window!r} is not a window like 08:00:00-17:30:00",
                )
            else:
                limits.times.append((parts[0], parts[1]))
        if limits.locale and limits.locale not in ("UTC", "Local"):
            import zoneinfo

            try:
                zoneinfo.ZoneInfo(limits.locale)
            except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):
                self.bad((*path, "locale"), f"locale {limits.locale!r} is not an IANA time zone")
        for i, kind in enumerate(self.strings(t, "conn_types", path)):
            if kind.upper() not in CONNECTION_TYPES:
                self.bad(
                    (*path, "conn_types", i),
                    f"conn_types {kind!r} is not one of {', '.join(CONNECTION_TYPES)}",
                )
            else:
                limits.conn_types.append(kind.upper())
        return limits

    def user(
        self, t: dict[str, Any], name: str, path: KeyPath, allowed: frozenset[str]
    ) -> UserSpec:
        t = self.table(t, path, allowed, "a user")
        user = UserSpec(
            name=name,
            path=path,
            role=self.string(t, "role", path),
            limits=self.user_limits(t, path),
            tags=self.strings(t, "tags", path),
            start=self.when(t, "start", path),
            expiry=self.when(t, "expiry", path),
        )
        if user.role and not user.limits.is_empty():
            self.bad(
                (*path, "role"),
                f"user {name!r} is signed by the scoped role {user.role!r}: scoped users take "
                "their permissions and limits from the role, so drop the permission and limit keys",
            )
        check_times(self, user.start, user.expiry, path)
        return user


def check_times(r: Reader, start: When, expiry: When, path: KeyPath) -> None:
    if (
        not start.is_relative
        and not expiry.is_relative
        and start.absolute
        and expiry.absolute
        and start.absolute >= expiry.absolute
    ):
        r.bad((*path, "expiry"), "expiry must be after start")
