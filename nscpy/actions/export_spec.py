"""export spec: a store as a provisioning spec (deterministic order; seeds are never written).

A key whose seed the keystore holds is written as "generate": applying the spec to the same
store keeps that key, and applying it to an empty store makes a new one (the claims are equal,
keys aside). A key without a stored seed is written as its public key.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from nscpy.actions.entities import load_account, load_operator, load_user
from nscpy.actions.lookup import accounts_by_key
from nscpy.actions.spec_claims import JS_ATTRS, LIMIT_ATTRS
from nscpy.actions.workspace import Workspace
from nscpy.jwt import (
    AccountClaims,
    JetStreamLimits,
    OperatorLimits,
    Permissions,
    UserClaims,
    UserPermissionLimits,
)
from nscpy.spec.model import GENERATE
from nscpy.values import format_go_duration

__all__ = ["export_spec", "spec_to_toml"]


def _when(ts: int) -> str | int:
    if not ts:
        return 0
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _key(ws: Workspace, public_key: str) -> str:
    return GENERATE if ws.keystore.get(public_key) is not None else public_key


def _perms(p: Permissions, out: dict[str, Any]) -> None:
    for key, values in (
        ("allow_pub", p.pub.allow),
        ("deny_pub", p.pub.deny),
        ("allow_sub", p.sub.allow),
        ("deny_sub", p.sub.deny),
    ):
        if values:
            out[key] = list(values)
    if p.resp is not None:
        out["allow_pub_response"] = p.resp.max
        if p.resp.ttl:
            out["response_ttl"] = format_go_duration(p.resp.ttl)


def _user_limits(u: UserPermissionLimits, out: dict[str, Any]) -> None:
    _perms(u, out)
    for key in ("subs", "data", "payload"):
        value = getattr(u, key)
        if value != -1:
            out[key] = value
    if u.bearer_token:
        out["bearer"] = True
    if u.src:
        out["src"] = list(u.src)
    if u.times:
        out["times"] = [f"{t.start}-{t.end}" for t in u.times]
    if u.times_location:
        out["locale"] = u.times_location
    if u.allowed_connection_types:
        out["conn_types"] = list(u.allowed_connection_types)


def _times(claims: Any, out: dict[str, Any]) -> None:
    if claims.not_before:
        out["start"] = _when(claims.not_before)
    if claims.expires:
        out["expiry"] = _when(claims.expires)


def _js(js: JetStreamLimits) -> dict[str, Any]:
    return {key: getattr(js, attr) for key, attr in JS_ATTRS.items() if getattr(js, attr)}


def _account(
    ws: Workspace, operator: str, name: str, acct: AccountClaims, names: dict[str, str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if acct.description:
        out["description"] = acct.description
    if acct.info_url:
        out["info_url"] = acct.info_url
    if acct.tags:
        out["tags"] = list(acct.tags)
    _times(acct, out)
    unlimited = OperatorLimits.unlimited()
    limits = {
        key: getattr(acct.limits, attr)
        for key, attr in LIMIT_ATTRS.items()
        if getattr(acct.limits, attr) != getattr(unlimited, attr)
    }
    if limits:
        out["limits"] = limits
    if not acct.limits.jetstream.is_zero():
        out["jetstream"] = _js(acct.limits.jetstream)
    if acct.limits.tiered_limits:
        out["jetstream_tiers"] = {t: _js(v) for t, v in sorted(acct.limits.tiered_limits.items())}
    perms: dict[str, Any] = {}
    _perms(acct.default_permissions, perms)
    if perms:
        out["default_permissions"] = perms
    sks: list[Any] = []
    for key, scope in sorted(acct.signing_keys.items(), key=lambda kv: (kv[1] is not None, kv[0])):
        if scope is None:
            sks.append(_key(ws, key))
            continue
        entry: dict[str, Any] = {"role": scope.role}
        if _key(ws, key) != GENERATE:
            entry["key"] = key
        if scope.description:
            entry["description"] = scope.description
        _user_limits(scope.template, entry)
        sks.append(entry)
    if sks:
        out["signing_keys"] = sks
    if acct.exports:
        out["exports"] = [_export(e) for e in acct.exports]
    if acct.imports:
        out["imports"] = [_import(i, names) for i in acct.imports]
    if acct.mappings:
        out["mappings"] = {
            src: [
                {
                    "to": m.subject,
                    **({"weight": m.weight} if m.weight else {}),
                    **({"cluster": m.cluster} if m.cluster else {}),
                }
                for m in dests
            ]
            for src, dests in sorted(acct.mappings.items())
        }
    if acct.trace is not None:
        out["trace"] = {"subject": acct.trace.dest, "sampling": acct.trace.sampling}
    if acct.revocations:
        out["revocations"] = dict(sorted(acct.revocations.items()))
    users: dict[str, Any] = {}
    user_names: dict[str, str] = {}
    for user in ws.store.list_users(operator, name):
        claims = load_user(ws, operator, name, user)
        user_names[claims.subject] = user
        users[user] = _user(acct, claims)
    if acct.authorization.auth_users:
        a = acct.authorization
        ac: dict[str, Any] = {"auth_users": [user_names.get(u, u) for u in a.auth_users]}
        if a.allowed_accounts:
            ac["allowed_accounts"] = [names.get(x, x) for x in a.allowed_accounts]
        if a.xkey:
            ac["curve"] = a.xkey
        out["auth_callout"] = ac
    if users:
        out["users"] = users
    return out


def _export(e: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if e.name:
        out["name"] = e.name
    out["subject"] = e.subject
    out["type"] = e.type or "stream"
    if e.token_req:
        out["private"] = True
    if e.response_type:
        out["response_type"] = e.response_type
    if e.response_threshold:
        out["response_threshold"] = format_go_duration(e.response_threshold)
    if e.latency is not None:
        out["latency"] = e.latency.results
        out["sampling"] = e.latency.sampling or "headers"
    for key in ("allow_trace", "advertise", "description", "info_url", "account_token_position"):
        if getattr(e, key):
            out[key] = getattr(e, key)
    if e.revocations:
        out["revocations"] = dict(sorted(e.revocations.items()))
    return out


def _import(i: Any, names: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if i.name and i.name != i.subject:
        out["name"] = i.name
    local = names.get(i.account)
    out["src_account"] = local or i.account
    out["remote_subject"] = i.subject
    out["type"] = i.type or "stream"
    if i.local_subject:
        out["local_subject"] = i.local_subject
    if i.share:
        out["share"] = True
    if i.allow_trace:
        out["allow_trace"] = True
    if i.token and local is None:
        out["token"] = i.token  # a foreign exporter's activation cannot be made again here
    return out


def _user(acct: AccountClaims, u: UserClaims) -> dict[str, Any]:
    out: dict[str, Any] = {}
    scope = acct.signing_keys.get_scope(u.issuer)
    if scope is not None:
        out["role"] = scope.role
    else:
        _user_limits(u, out)
    if u.tags:
        out["tags"] = list(u.tags)
    _times(u, out)
    return out


def export_spec(ws: Workspace, operator: str | None = None) -> dict[str, Any]:
    """The store of `operator` (default: the current one) as a spec tree, ready for TOML."""
    name = ws.operator_name(operator)
    op = load_operator(ws, name)
    names = accounts_by_key(ws, name)
    o: dict[str, Any] = {"name": name}
    if op.signing_keys:
        o["signing_keys"] = [_key(ws, k) for k in op.signing_keys]
    if op.strict_signing_key_usage:
        o["strict"] = True
    if op.operator_service_urls:
        o["service_urls"] = list(op.operator_service_urls)
    if op.account_server_url:
        o["account_server_url"] = op.account_server_url
    if op.system_account:
        o["system_account"] = names.get(op.system_account, op.system_account)
    if op.tags:
        o["tags"] = list(op.tags)
    _times(op, o)
    accounts = {
        account: _account(ws, name, account, load_account(ws, name, account), names)
        for account in ws.store.list_accounts(name)
    }
    return {"operator": o, "accounts": accounts}


def spec_to_toml(tree: dict[str, Any]) -> str:
    """TOML text for a spec tree (tomli-w keeps our key order)."""
    import tomli_w

    header = "# written by 'nscpy export spec'; apply with 'nscpy apply FILE'\n"
    return header + tomli_w.dumps(tree)
