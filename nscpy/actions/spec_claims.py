"""Spec pieces -> claim fields: how each spec key lands in a JWT (shared by plan and export).

Pure functions over claim objects; key choice and signing live in nscpy.actions.plan.
"""

from __future__ import annotations

from nscpy.actions.edit_common import normalise_tags
from nscpy.actions.permspec import PermissionSpec
from nscpy.jwt import (
    AccountClaims,
    Export,
    Import,
    JetStreamLimits,
    MsgTrace,
    OperatorLimits,
    Permissions,
    ServiceLatency,
    TimeRange,
    UserClaims,
    UserPermissionLimits,
    WeightedMapping,
)
from nscpy.spec.model import AccountSpec, ExportSpec, ImportSpec, UserLimits, When
from nscpy.spec.permissions import Perms
from nscpy.values import add_relative

# spec jetstream key -> JetStreamLimits attribute
JS_ATTRS = {
    "mem_storage": "mem_storage",
    "disk_storage": "disk_storage",
    "streams": "streams",
    "consumer": "consumer",
    "max_ack_pending": "max_ack_pending",
    "max_mem_stream": "mem_max_stream_bytes",
    "max_disk_stream": "disk_max_stream_bytes",
    "max_bytes_required": "max_bytes_required",
}
# spec limits key -> OperatorLimits attribute
LIMIT_ATTRS = {
    "conns": "conn",
    "leaf_conns": "leaf",
    "data": "data",
    "payload": "payload",
    "subscriptions": "subs",
    "imports": "imports",
    "exports": "exports",
    "wildcard_exports": "wildcards",
    "disallow_bearer": "disallow_bearer",
}


def resolve_when(when: When, base: int) -> int:
    """Unix seconds: the absolute value, or count+unit after base (the issue time)."""
    if when.is_relative:
        return add_relative(base, when.count, when.unit)
    return when.absolute


def apply_perms(target: Permissions, p: Perms) -> None:
    """Set target's permissions from the spec (as the flags would on a fresh claim)."""
    PermissionSpec.of(p).apply(target)


def apply_user_limits(target: UserPermissionLimits, limits: UserLimits) -> None:
    """Permissions, counts, bearer, src, times, locale and connection types."""
    apply_perms(target, limits.perms)
    if limits.subs is not None:
        target.subs = limits.subs
    if limits.data is not None:
        target.data = limits.data
    if limits.payload is not None:
        target.payload = limits.payload
    target.bearer_token = limits.bearer
    target.src = list(limits.src)
    target.times = [TimeRange(start, end) for start, end in limits.times]
    target.times_location = limits.locale
    target.allowed_connection_types = list(limits.conn_types)


def user_claims(
    public_key: str, name: str, limits: UserLimits, tags: list[str], scoped: bool
) -> UserClaims:
    """A user's claims before times, issuer and issuer_account are set."""
    claims = UserClaims.new(public_key)
    claims.name = name
    claims.tags = normalise_tags(tags)
    if scoped:
        claims.set_scoped()
    else:
        apply_user_limits(claims, limits)
    return claims


def account_limits(a: AccountSpec) -> OperatorLimits:
    """NewAccountClaims' unlimited defaults with the spec's limits and JetStream over them."""
    limits = OperatorLimits.unlimited()
    for key, value in a.limits.items():
        setattr(limits, LIMIT_ATTRS[key], value)
    if a.jetstream is not None:
        limits.jetstream = _js(a.jetstream)
    limits.tiered_limits = {tier: _js(values) for tier, values in a.jetstream_tiers.items()}
    return limits


def _js(values: dict[str, int | bool]) -> JetStreamLimits:
    js = JetStreamLimits()
    for key, value in values.items():
        setattr(js, JS_ATTRS[key], value)
    return js


def export_claim(e: ExportSpec, stored: list[Export]) -> Export:
    """An Export; activation revocations already in the store are kept (merged with the spec's)."""
    out = Export(
        name=e.name,
        subject=e.subject,
        type=e.type,
        token_req=e.private,
        response_type=e.response_type,
        response_threshold=e.response_threshold_ns,
        account_token_position=e.account_token_position,
        advertise=e.advertise,
        allow_trace=e.allow_trace,
        description=e.description,
        info_url=e.info_url,
    )
    if e.latency:
        out.latency = ServiceLatency(sampling=e.sampling, results=e.latency)
    for old in stored:
        if old.subject == e.subject and old.type == e.type:
            for key, at in old.revocations.items():
                out.revocations[key] = at
    for key, at in e.revocations.items():
        out.revocations[key] = max(at, out.revocations.get(key, 0))
    return out


def import_claim(i: ImportSpec, account_key: str, token: str) -> Import:
    """An Import from the exporter's key, with its activation token if any."""
    return Import(
        name=i.name or i.remote_subject,
        subject=i.remote_subject,
        account=account_key,
        token=token,
        local_subject=i.local_subject,
        type=i.type,
        share=i.share,
        allow_trace=i.allow_trace,
    )


def mappings_claim(a: AccountSpec) -> dict[str, list[WeightedMapping]]:
    """The mapping table."""
    return {
        source: [WeightedMapping(m.to, m.weight, m.cluster) for m in entries]
        for source, entries in a.mappings.items()
    }


def trace_claim(a: AccountSpec) -> MsgTrace | None:
    """Message tracing, if asked for."""
    if a.trace is None:
        return None
    return MsgTrace(dest=a.trace.subject, sampling=a.trace.sampling)


def sort_for_encode(claims: AccountClaims) -> None:
    """The order encode() writes (exports and imports by subject), so claims compare equal."""
    claims.exports.sort(key=lambda e: e.subject)
    claims.imports.sort(key=lambda i: i.subject)
