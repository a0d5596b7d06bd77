"""Reading one account table: limits, JetStream, signing keys, exports, imports, users."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from nscpy.keys import is_valid_public_key
from nscpy.spec.model import (
    GENERATE,
    AccountSpec,
    AuthCalloutSpec,
    ExportSpec,
    ImportSpec,
    MappingSpec,
    SigningKeySpec,
    TraceSpec,
    UserSetSpec,
)
from nscpy.spec.positions import KeyPath
from nscpy.spec.reader import (
    ACCOUNT_KEYS,
    EXPORT_KEYS,
    IMPORT_KEYS,
    JETSTREAM_KINDS,
    LIMIT_KINDS,
    PERM_KEYS,
    SIGNING_KEY_KEYS,
    USER_KEYS,
    USER_SET_KEYS,
    Reader,
    check_times,
)

__all__ = ["read_account"]

_TIER = re.compile(r"^R[1-9][0-9]*$", re.ASCII)
_RESPONSE_TYPES = ("Singleton", "Stream", "Chunked")
_MAX_FLEET = 1_000_000


def _limits(
    r: Reader, raw: Any, path: KeyPath, kinds: Mapping[str, str], what: str
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


def _signing_keys(r: Reader, raw: Any, path: KeyPath) -> list[SigningKeySpec]:
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
        t = r.table(item, here, SIGNING_KEY_KEYS, "a signing key")
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


def _exports(r: Reader, raw: Any, path: KeyPath) -> list[ExportSpec]:
    where = (*path, "exports")
    if not isinstance(raw, list):
        r.bad(where, "exports must be an array of tables")
        return []
    out: list[ExportSpec] = []
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(raw):
        here = (*where, i)
        t = r.table(item, here, EXPORT_KEYS, "an export")
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


def _imports(r: Reader, raw: Any, path: KeyPath) -> list[ImportSpec]:
    where = (*path, "imports")
    if not isinstance(raw, list):
        r.bad(where, "imports must be an array of tables")
        return []
    out: list[ImportSpec] = []
    for i, item in enumerate(raw):
        here = (*where, i)
        t = r.table(item, here, IMPORT_KEYS, "an import")
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


def _mappings(r: Reader, raw: Any, path: KeyPath) -> dict[str, list[MappingSpec]]:
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


def read_account(r: Reader, name: str, raw: Any, path: KeyPath) -> AccountSpec:
    t = r.table(raw, path, ACCOUNT_KEYS, f"account {name!r}")
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
    check_times(r, a.start, a.expiry, path)
    if "limits" in t:
        a.limits = _limits(r, t["limits"], (*path, "limits"), LIMIT_KINDS, "limits")
    if "jetstream" in t:
        a.jetstream = _limits(r, t["jetstream"], (*path, "jetstream"), JETSTREAM_KINDS, "jetstream")
    if "jetstream_tiers" in t:
        tiers = t["jetstream_tiers"]
        if not isinstance(tiers, dict):
            r.bad((*path, "jetstream_tiers"), "jetstream_tiers must be a table like { R1 = {...} }")
        else:
            for tier, limits in tiers.items():
                where = (*path, "jetstream_tiers", tier)
                if not _TIER.match(tier):
                    r.bad(where, f"tier {tier!r} must be R followed by a replica count (R1, R3)")
                a.jetstream_tiers[tier] = _limits(r, limits, where, JETSTREAM_KINDS, f"tier {tier}")
        if a.jetstream is not None:
            r.bad((*path, "jetstream_tiers"), "jetstream and jetstream_tiers are exclusive")
    if "default_permissions" in t:
        where = (*path, "default_permissions")
        a.default_permissions = r.perms(
            r.table(t["default_permissions"], where, PERM_KEYS, "default_permissions"), where
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
        a.users[user] = r.user(body, user, where, USER_KEYS)
    fleets = t.get("user_sets", [])
    if not isinstance(fleets, list):
        r.bad((*path, "user_sets"), "user_sets must be an array of tables ([[...user_sets]])")
        fleets = []
    for i, body in enumerate(fleets):
        where = (*path, "user_sets", i)
        body = r.table(body, where, USER_SET_KEYS, "a user set")
        fmt = r.string(body, "name", where)
        count = r.integer(body, "count", where, low=1)
        first = r.integer(body, "first", where, low=0)
        template = r.user(
            {k: v for k, v in body.items() if k not in ("name", "count", "first")},
            fmt,
            where,
            USER_KEYS,
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
