"""Read a merged spec tree into the typed model, collecting every problem with its position.

Each reader takes the raw value and its key path; a problem is recorded (not raised) so one run
reports all of them. Unknown keys are refused, never ignored. Cross-references (templates,
roles, imports, the system account, auth-callout users) are checked once every account is read.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from nscpy.jwt import ValidationResults
from nscpy.jwt.permissions import CONNECTION_TYPES, validate_cidr
from nscpy.jwt.subject import validate_subject
from nscpy.keys import is_valid_public_key
from nscpy.spec.document import Document, load_document
from nscpy.spec.errors import SpecError
from nscpy.spec.model import (
    GENERATE,
    AccountSpec,
    AuthCalloutSpec,
    ExportSpec,
    ImportSpec,
    MappingSpec,
    OperatorSpec,
    Perms,
    SigningKeySpec,
    Spec,
    TraceSpec,
    UserLimits,
    UserSetSpec,
    UserSpec,
    When,
)
from nscpy.spec.positions import KeyPath
from nscpy.store.errors import InvalidName
from nscpy.store.layout import validate_name
from nscpy.values import InvalidValue, parse_expiry, parse_go_duration, parse_number

__all__ = ["parse_spec"]

_TOP = frozenset({"operator", "templates", "accounts"})
_OPERATOR = frozenset(
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
_LIMITS: dict[str, str] = {
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
_JETSTREAM: dict[str, str] = {
    "mem_storage": "size",
    "disk_storage": "size",
    "streams": "int",
    "consumer": "int",
    "max_ack_pending": "int",
    "max_mem_stream": "size",
    "max_disk_stream": "size",
    "max_bytes_required": "bool",
}
_PERMS = frozenset(
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
_USER_LIMITS = _PERMS | {
    "subs",
    "data",
    "payload",
    "bearer",
    "src",
    "times",
    "locale",
    "conn_types",
}
_USER = _USER_LIMITS | {"role", "tags", "start", "expiry"}
_USER_SET = _USER | {"name", "count", "first"}
_SIGNING_KEY = _USER_LIMITS | {"key", "role", "description"}
_EXPORT = frozenset(
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
_IMPORT = frozenset(
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
_ACCOUNT = frozenset(
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
_TIER = re.compile(r"^R[1-9][0-9]*$", re.ASCII)
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$", re.ASCII)
_RESPONSE_TYPES = ("Singleton", "Stream", "Chunked")
_MAX_FLEET = 1_000_000


def _type_name(value: Any) -> str:
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


class _Reader:
    """Typed access to the merged tree; problems go to the document's issue list."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc

    def bad(self, path: KeyPath, message: str) -> None:
        self.doc.issue(path, message)

    def table(
        self, value: Any, path: KeyPath, allowed: frozenset[str], what: str
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.bad(path, f"{what} must be a table, got {_type_name(value)}")
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
            self.bad((*path, key), f"{key} must be a string, got {_type_name(value)}")
            return default
        return value

    def boolean(self, t: dict[str, Any], key: str, path: KeyPath) -> bool:
        value = t.get(key, False)
        if not isinstance(value, bool):
            self.bad((*path, key), f"{key} must be true or false, got {_type_name(value)}")
            return False
        return value

    def integer(
        self, t: dict[str, Any], key: str, path: KeyPath, *, low: int | None = None
    ) -> int | None:
        if key not in t:
            return None
        value = t[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.bad((*path, key), f"{key} must be an integer, got {_type_name(value)}")
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
            self.bad((*path, key), f"{key} must be an array of strings, got {_type_name(value)}")
            return []
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.bad((*path, key, i), f"{key} entries must be strings, got {_type_name(item)}")
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
            allow_pub_response=self.integer(t, "allow_pub_response", path, low=1),
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
        _check_times(self, user.start, user.expiry, path)
        return user


def _check_times(r: _Reader, start: When, expiry: When, path: KeyPath) -> None:
    if (
        not start.is_relative
        and not expiry.is_relative
        and start.absolute
        and expiry.absolute
        and start.absolute >= expiry.absolute
    ):
        r.bad((*path, "expiry"), "expiry must be after start")


# -- accounts ------------------------------------------------------------------------------------
def _limits(
    r: _Reader, raw: Any, path: KeyPath, kinds: Mapping[str, str], what: str
) -> dict[str, int | bool]:
    t = r.table(raw, path, frozenset(kinds), what)
    out: dict[str, int | bool] = {}
    for key, kind in kinds.items():
        if key not in t:
            continue
        value: int | bool | None
        if kind == "bool":
            value = r.boolean(t, key, path)
        elif kind == "size":
            value = r.size(t, key, path)
        else:
            value = r.integer(t, key, path, low=-1)
        if value is not None:
            out[key] = value
    return out


def _signing_keys(r: _Reader, raw: Any, path: KeyPath) -> list[SigningKeySpec]:
    where = (*path, "signing_keys")
    if not isinstance(raw, list):
        r.bad(where, "signing_keys must be an array")
        return []
    out: list[SigningKeySpec] = []
    roles: set[str] = set()
    for i, item in enumerate(raw):
        here = (*where, i)
        if isinstance(item, str):
            if item != GENERATE and not (is_valid_public_key(item) and item.startswith("A")):
                r.bad(here, f'signing key {item!r} is not "generate" or an account public key')
                continue
            out.append(SigningKeySpec(key=item, path=here))
            continue
        t = r.table(item, here, _SIGNING_KEY, "a signing key")
        key = r.string(t, "key", here, GENERATE)
        if key != GENERATE and not (is_valid_public_key(key) and key.startswith("A")):
            r.bad((*here, "key"), f'signing key {key!r} is not "generate" or an account public key')
        role = r.string(t, "role", here)
        if not role:
            r.bad(here, "a signing-key table needs a role (plain keys are strings)")
            continue
        if role in roles:
            r.bad((*here, "role"), f"duplicate signing-key role {role!r}")
        roles.add(role)
        out.append(
            SigningKeySpec(
                key=key,
                path=here,
                role=role,
                description=r.string(t, "description", here),
                template=r.user_limits(t, here),
            )
        )
    return out


def _exports(r: _Reader, raw: Any, path: KeyPath) -> list[ExportSpec]:
    where = (*path, "exports")
    if not isinstance(raw, list):
        r.bad(where, "exports must be an array of tables")
        return []
    out: list[ExportSpec] = []
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(raw):
        here = (*where, i)
        t = r.table(item, here, _EXPORT, "an export")
        if "subject" not in t:
            r.bad(here, "an export needs a subject")
            continue
        e = ExportSpec(
            subject=r.string(t, "subject", here),
            path=here,
            name=r.string(t, "name", here),
            type=r.string(t, "type", here, "stream"),
            private=r.boolean(t, "private", here),
            response_type=r.string(t, "response_type", here),
            response_threshold_ns=r.duration(t, "response_threshold", here) or 0,
            latency=r.string(t, "latency", here),
            allow_trace=r.boolean(t, "allow_trace", here),
            account_token_position=r.integer(t, "account_token_position", here, low=0) or 0,
            advertise=r.boolean(t, "advertise", here),
            description=r.string(t, "description", here),
            info_url=r.string(t, "info_url", here),
            revocations=r.revocations(t, here, "A"),
        )
        r.subject(e.subject, (*here, "subject"), "export subject")
        if e.type not in ("stream", "service"):
            r.bad((*here, "type"), f'export type must be "stream" or "service", got {e.type!r}')
        if (e.type, e.subject) in seen:
            r.bad((*here, "subject"), f"duplicate {e.type} export {e.subject!r}")
        seen.add((e.type, e.subject))
        if e.response_type and (e.type != "service" or e.response_type not in _RESPONSE_TYPES):
            r.bad(
                (*here, "response_type"),
                f"response_type {e.response_type!r} needs a service export and one of "
                + ", ".join(_RESPONSE_TYPES),
            )
        sampling = t.get("sampling", 0)
        if sampling == "headers":
            e.sampling = 0
        elif (
            isinstance(sampling, bool) or not isinstance(sampling, int) or not 0 <= sampling <= 100
        ):
            r.bad((*here, "sampling"), 'sampling must be 1..100 or "headers"')
        else:
            e.sampling = sampling
        if "sampling" in t and not e.latency:
            r.bad((*here, "sampling"), "sampling needs a latency subject")
        if e.latency:
            if e.type != "service":
                r.bad((*here, "latency"), "latency tracking needs a service export")
            elif r.subject(e.latency, (*here, "latency"), "latency") and (
                "*" in e.latency or ">" in e.latency
            ):
                r.bad((*here, "latency"), "latency subject cannot contain wildcards")
        if e.account_token_position:
            tokens = e.subject.split(".")
            pos = e.account_token_position
            if pos > len(tokens) or tokens[pos - 1] != "*":
                r.bad(
                    (*here, "account_token_position"),
                    f"account_token_position {pos} must point at a '*' token of {e.subject!r}",
                )
        out.append(e)
    return out


def _imports(r: _Reader, raw: Any, path: KeyPath) -> list[ImportSpec]:
    where = (*path, "imports")
    if not isinstance(raw, list):
        r.bad(where, "imports must be an array of tables")
        return []
    out: list[ImportSpec] = []
    for i, item in enumerate(raw):
        here = (*where, i)
        t = r.table(item, here, _IMPORT, "an import")
        missing = [k for k in ("src_account", "remote_subject") if k not in t]
        if missing:
            r.bad(here, f"an import needs {' and '.join(missing)}")
            continue
        imp = ImportSpec(
            src_account=r.string(t, "src_account", here),
            remote_subject=r.string(t, "remote_subject", here),
            path=here,
            name=r.string(t, "name", here),
            type=r.string(t, "type", here, "stream"),
            local_subject=r.string(t, "local_subject", here),
            share=r.boolean(t, "share", here),
            allow_trace=r.boolean(t, "allow_trace", here),
            token=r.string(t, "token", here),
        )
        r.subject(imp.remote_subject, (*here, "remote_subject"), "remote_subject")
        if imp.local_subject:
            r.subject(imp.local_subject, (*here, "local_subject"), "local_subject")
        if imp.type not in ("stream", "service"):
            r.bad((*here, "type"), f'import type must be "stream" or "service", got {imp.type!r}')
        if imp.share and imp.type != "service":
            r.bad((*here, "share"), "share is only valid for service imports")
        if imp.allow_trace and imp.type == "service":
            r.bad((*here, "allow_trace"), "allow_trace is only valid for stream imports")
        out.append(imp)
    return out


def _mappings(r: _Reader, raw: Any, path: KeyPath) -> dict[str, list[MappingSpec]]:
    where = (*path, "mappings")
    if not isinstance(raw, dict):
        r.bad(where, "mappings must be a table of FROM = [{ to = ..., weight = ... }]")
        return {}
    out: dict[str, list[MappingSpec]] = {}
    for source, entries in raw.items():
        here = (*where, source)
        r.subject(source, here, "mapping source")
        if not isinstance(entries, list):
            entries = [entries]
        total = 0
        got: list[MappingSpec] = []
        for i, entry in enumerate(entries):
            at = (*here, i) if isinstance(raw[source], list) else here
            t = r.table(entry, at, frozenset({"to", "weight", "cluster"}), "a mapping")
            if "to" not in t:
                r.bad(at, "a mapping needs a 'to' subject")
                continue
            m = MappingSpec(
                to=r.string(t, "to", at),
                weight=r.integer(t, "weight", at, low=0) or 0,
                cluster=r.string(t, "cluster", at),
            )
            r.subject(m.to, (*at, "to"), "mapping destination")
            if m.weight > 100:
                r.bad((*at, "weight"), f"mapping weight must be 1..100, got {m.weight}")
            if not m.cluster:
                total += m.weight or 100
            got.append(m)
        if total > 100:
            r.bad(here, f"mapping {source!r}: weights add up to {total}%, more than 100%")
        out[source] = got
    return out


def _account(r: _Reader, name: str, raw: Any, path: KeyPath) -> AccountSpec:
    t = r.table(raw, path, _ACCOUNT, f"account {name!r}")
    r.name(name, path, "account")
    a = AccountSpec(
        name=name,
        path=path,
        description=r.string(t, "description", path),
        info_url=r.string(t, "info_url", path),
        tags=r.strings(t, "tags", path),
        start=r.when(t, "start", path),
        expiry=r.when(t, "expiry", path),
        revocations=r.revocations(t, path, "U"),
    )
    _check_times(r, a.start, a.expiry, path)
    if "limits" in t:
        a.limits = _limits(r, t["limits"], (*path, "limits"), _LIMITS, "limits")
    if "jetstream" in t:
        a.jetstream = _limits(r, t["jetstream"], (*path, "jetstream"), _JETSTREAM, "jetstream")
    if "jetstream_tiers" in t:
        tiers = t["jetstream_tiers"]
        if not isinstance(tiers, dict):
            r.bad((*path, "jetstream_tiers"), "jetstream_tiers must be a table like { R1 = {...} }")
        else:
            for tier, limits in tiers.items():
                where = (*path, "jetstream_tiers", tier)
                if not _TIER.match(tier):
                    r.bad(where, f"tier {tier!r} must be R followed by a replica count (R1, R3)")
                a.jetstream_tiers[tier] = _limits(r, limits, where, _JETSTREAM, f"tier {tier}")
        if a.jetstream is not None:
            r.bad((*path, "jetstream_tiers"), "jetstream and jetstream_tiers are exclusive")
    if "default_permissions" in t:
        where = (*path, "default_permissions")
        a.default_permissions = r.perms(
            r.table(t["default_permissions"], where, _PERMS, "default_permissions"), where
        )
    if "signing_keys" in t:
        a.signing_keys = _signing_keys(r, t["signing_keys"], path)
    if "exports" in t:
        a.exports = _exports(r, t["exports"], path)
    if "imports" in t:
        a.imports = _imports(r, t["imports"], path)
    if "mappings" in t:
        a.mappings = _mappings(r, t["mappings"], path)
    if "auth_callout" in t:
        where = (*path, "auth_callout")
        ac = r.table(
            t["auth_callout"],
            where,
            frozenset({"auth_users", "allowed_accounts", "curve"}),
            "auth_callout",
        )
        a.auth_callout = AuthCalloutSpec(
            auth_users=r.strings(ac, "auth_users", where),
            allowed_accounts=r.strings(ac, "allowed_accounts", where),
            curve=r.string(ac, "curve", where),
        )
        if a.auth_callout.curve and not (
            is_valid_public_key(a.auth_callout.curve) and a.auth_callout.curve.startswith("X")
        ):
            r.bad((*where, "curve"), f"curve {a.auth_callout.curve!r} is not an X... public key")
        if not a.auth_callout.auth_users:
            r.bad(where, "auth_callout needs at least one auth_users entry")
    if "trace" in t:
        where = (*path, "trace")
        tr = r.table(t["trace"], where, frozenset({"subject", "sampling"}), "trace")
        a.trace = TraceSpec(
            r.string(tr, "subject", where), r.integer(tr, "sampling", where, low=0) or 0
        )
        if r.subject(a.trace.subject, (*where, "subject"), "trace subject") and (
            "*" in a.trace.subject or ">" in a.trace.subject
        ):
            r.bad((*where, "subject"), "trace subject cannot contain wildcards")
        if a.trace.sampling > 100:
            r.bad((*where, "sampling"), f"trace sampling must be 1..100, got {a.trace.sampling}")
    users = t.get("users", {})
    if not isinstance(users, dict):
        r.bad((*path, "users"), "users must be a table of user tables")
        users = {}
    for user, body in users.items():
        where = (*path, "users", user)
        r.name(user, where, "user")
        a.users[user] = r.user(body, user, where, _USER)
    fleets = t.get("user_sets", [])
    if not isinstance(fleets, list):
        r.bad((*path, "user_sets"), "user_sets must be an array of tables ([[...user_sets]])")
        fleets = []
    for i, body in enumerate(fleets):
        where = (*path, "user_sets", i)
        body = r.table(body, where, _USER_SET, "a user set")
        fmt = r.string(body, "name", where)
        count = r.integer(body, "count", where, low=1)
        first = r.integer(body, "first", where, low=0)
        template = r.user(
            {k: v for k, v in body.items() if k not in ("name", "count", "first")},
            fmt,
            where,
            _USER,
        )
        if "count" not in body:
            r.bad(where, "a user set needs a count")
            continue
        if count is None:
            continue
        if count > _MAX_FLEET:
            r.bad((*where, "count"), f"count must be at most {_MAX_FLEET}")
            continue
        if "{n" not in fmt:
            r.bad(
                (*where, "name"), f'user set name {fmt!r} must contain {{n}} (e.g. "dev-{{n:05}}")'
            )
            continue
        try:
            sample = fmt.format(n=first if first is not None else 1)
        except (ValueError, KeyError, IndexError) as exc:
            r.bad((*where, "name"), f"user set name {fmt!r} is not a valid format: {exc}")
            continue
        if not r.name(sample, (*where, "name"), "user"):
            continue
        a.user_sets.append(UserSetSpec(fmt, count, 1 if first is None else first, template, where))
    return a


# -- cross references ---------------------------------------------------------------------------
def _check_references(r: _Reader, spec: Spec, templates_ok: bool) -> None:
    folded: dict[str, str] = {}
    for name, a in spec.accounts.items():
        other = folded.get(name.casefold())
        if other is not None:
            r.bad(a.path, f"account {name!r} differs from account {other!r} only in case")
        folded[name.casefold()] = name
        _check_account_refs(r, spec, a)
    op = spec.operator
    sys_name = op.system_account
    if sys_name and not (
        sys_name in spec.accounts or (is_valid_public_key(sys_name) and sys_name.startswith("A"))
    ):
        r.bad(
            (*op.path, "system_account"),
            f"system_account {sys_name!r} is not an account of this spec",
        )
    sys_acct = spec.accounts.get(sys_name)
    if sys_acct is not None and (sys_acct.jetstream or sys_acct.jetstream_tiers):
        r.bad(sys_acct.path, f"the system account {sys_name!r} cannot have JetStream limits")
    if op.strict and not op.signing_keys:
        r.bad((*op.path, "strict"), "strict needs at least one operator signing key")


def _check_account_refs(r: _Reader, spec: Spec, a: AccountSpec) -> None:
    names: dict[str, KeyPath] = {name: u.path for name, u in a.users.items()}
    for fleet in a.user_sets:
        for name in fleet.names():
            if name in names:
                r.bad(
                    (*fleet.path, "name"),
                    f"user set makes user {name!r}, which already exists in account {a.name!r}",
                )
                break
            names[name] = fleet.path
    for user in [*a.users.values(), *(f.template for f in a.user_sets)]:
        if user.role and a.scope(user.role) is None:
            roles = ", ".join(k.role for k in a.signing_keys if k.role) or "none"
            r.bad(
                (*user.path, "role"),
                f"role {user.role!r} is not a scoped signing key of account {a.name!r} "
                f"(roles: {roles})",
            )
    for imp in a.imports:
        src = spec.accounts.get(imp.src_account)
        if src is None:
            if not (is_valid_public_key(imp.src_account) and imp.src_account.startswith("A")):
                r.bad(
                    (*imp.path, "src_account"),
                    f"src_account {imp.src_account!r} is neither an account of this spec "
                    "nor an account public key",
                )
            continue
        if src is a:
            r.bad((*imp.path, "src_account"), "an account cannot import from itself")
            continue
        from nscpy.jwt.subject import is_contained_in

        covering = [
            e
            for e in src.exports
            if e.type == imp.type and is_contained_in(imp.remote_subject, e.subject)
        ]
        if not covering:
            r.bad(
                (*imp.path, "remote_subject"),
                f"account {src.name!r} has no {imp.type} export covering {imp.remote_subject!r}",
            )
    ac = a.auth_callout
    if ac is not None:
        for i, who in enumerate(ac.auth_users):
            if who not in names and not (is_valid_public_key(who) and who.startswith("U")):
                r.bad(
                    (*a.path, "auth_callout", "auth_users", i),
                    f"auth user {who!r} is not a user of account {a.name!r} or a public key",
                )
        for i, acct in enumerate(ac.allowed_accounts):
            if (
                acct != "*"
                and acct not in spec.accounts
                and not (is_valid_public_key(acct) and acct.startswith("A"))
            ):
                r.bad(
                    (*a.path, "auth_callout", "allowed_accounts", i),
                    f"allowed account {acct!r} is not an account of this spec, a public key or '*'",
                )


def _resolve_templates(doc: Document, r: _Reader) -> None:
    templates = doc.get(("templates",))
    if templates is None:
        templates = {}
    if not isinstance(templates, dict):
        r.bad(("templates",), "templates must be a table of tables")
        templates = {}
    done: set[str] = set()

    def uses(path: KeyPath) -> list[tuple[str, KeyPath]]:
        body = doc.get(path)
        if not isinstance(body, dict) or "use" not in body:
            return []
        value = body["use"]
        names = value if isinstance(value, list) else [value]
        out = []
        for i, item in enumerate(names):
            where = (*path, "use", i) if isinstance(value, list) else (*path, "use")
            if not isinstance(item, str):
                r.bad(where, f"use must name a template (a string), got {_type_name(item)}")
            elif item not in templates:
                known = ", ".join(sorted(templates)) or "none"
                r.bad(where, f"unknown template {item!r} (templates: {known})")
            else:
                out.append((item, where))
        return out

    def resolve(name: str, stack: list[str]) -> bool:
        if name in done:
            return True
        if name in stack:
            cycle = " -> ".join([*stack[stack.index(name) :], name])
            r.bad(("templates", name, "use"), f"templates use each other in a cycle: {cycle}")
            return False
        ok = True
        for parent, _ in reversed(uses(("templates", name))):
            if resolve(parent, [*stack, name]):
                doc.copy_under(("templates", name), ("templates", parent))
            else:
                ok = False
        done.add(name)
        return ok

    for name in templates:
        resolve(name, [])
    accounts = doc.get(("accounts",))
    if isinstance(accounts, dict):
        for name in accounts:
            # the account's own keys win, then the last template named, then earlier ones
            for parent, _ in reversed(uses(("accounts", name))):
                doc.copy_under(("accounts", name), ("templates", parent))
    for body in [
        *(templates.values()),
        *((accounts or {}).values() if isinstance(accounts, dict) else []),
    ]:
        if isinstance(body, dict):
            body.pop("use", None)


def parse_spec(sources: list[tuple[str, str]], variables: Mapping[str, str] | None = None) -> Spec:
    """The typed spec from TOML texts (base first, overlays after); SpecError lists all problems."""
    doc = load_document(sources, variables or {})
    if doc.issues:
        raise SpecError(doc.issues)
    r = _Reader(doc)
    root = r.table(doc.data, (), _TOP, "the spec")
    _resolve_templates(doc, r)
    for name, body in (
        (root.get("templates") or {}).items() if isinstance(root.get("templates"), dict) else []
    ):
        # a template holds account fields; check them even when no account uses it
        r.table(body, ("templates", name), _ACCOUNT - {"use"}, f"template {name!r}")
    raw_op = root.get("operator")
    if raw_op is None:
        r.bad((), "the spec needs an [operator] table with a name")
        raw_op = {}
    op_t = r.table(raw_op, ("operator",), _OPERATOR, "[operator]")
    path: KeyPath = ("operator",)
    op = OperatorSpec(
        name=r.string(op_t, "name", path),
        path=path,
        signing_keys=r.strings(op_t, "signing_keys", path),
        strict=r.boolean(op_t, "strict", path),
        service_urls=r.strings(op_t, "service_urls", path),
        account_server_url=r.string(op_t, "account_server_url", path),
        system_account=r.string(op_t, "system_account", path),
        tags=r.strings(op_t, "tags", path),
        start=r.when(op_t, "start", path),
        expiry=r.when(op_t, "expiry", path),
    )
    if "name" not in op_t and raw_op:
        r.bad(path, "[operator] needs a name")
    elif op.name:
        r.name(op.name, (*path, "name"), "operator")
    for i, key in enumerate(op.signing_keys):
        if key != GENERATE and not (is_valid_public_key(key) and key.startswith("O")):
            r.bad(
                (*path, "signing_keys", i),
                f'signing key {key!r} is not "generate" or an operator public key',
            )
    from nscpy.jwt.operator import validate_operator_service_url

    for i, url in enumerate(op.service_urls):
        problem = validate_operator_service_url(url)
        if problem:
            r.bad((*path, "service_urls", i), problem)
    if op.account_server_url and "://" not in op.account_server_url:
        r.bad(
            (*path, "account_server_url"),
            f"account_server_url {op.account_server_url!r} needs a scheme such as nats:// or https://",
        )
    spec = Spec(op)
    accounts = root.get("accounts", {})
    if not isinstance(accounts, dict):
        r.bad(("accounts",), "accounts must be a table of account tables")
        accounts = {}
    for name, body in accounts.items():
        spec.accounts[name] = _account(r, name, body, ("accounts", name))
    _check_references(r, spec, True)
    if doc.issues:
        raise SpecError(doc.issues)
    spec.locate = doc.position
    return spec
