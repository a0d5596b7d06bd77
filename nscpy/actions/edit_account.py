"""edit account: limits, JetStream (global or tiered), default permissions, signing keys, info.

nsc bugs deliberately not copied: --js-max-ack-pending is honoured (nsc
tested a misspelled flag name, so it was ignored), and changes are reported per field rather
than through nsc's DiffAccountLimits, which compared NotBefore for both start and expiry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nscpy import keys
from nscpy.actions.edit_common import (
    account_saved,
    edit_tags,
    resolve_account,
    signing_key_value,
    update_account,
)
from nscpy.actions.entities import Saved
from nscpy.actions.errors import UsageProblem
from nscpy.actions.lookup import key_for_role
from nscpy.actions.permspec import PermissionSpec
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, JetStreamLimits, MsgTrace, OperatorLimits
from nscpy.jwt.subject import subject_problem
from nscpy.redact import shown
from nscpy.store.journal import all_or_nothing

JS_FIELDS = (
    "mem_storage",
    "disk_storage",
    "streams",
    "consumer",
    "max_ack_pending",
    "mem_max_stream_bytes",
    "disk_max_stream_bytes",
)
"""JetStreamLimits' integer fields, in the order of the --js-* flags."""


def tier_name(tier: int) -> str:
    """--js-tier N: 0 is the global (flat) limits, N>0 the replica tier "RN"."""
    if tier < 0:
        raise UsageProblem(f"--js-tier must be 0 (global) or a replica count, got {tier}")
    return "" if tier == 0 else f"R{tier}"


@dataclass
class JetStreamEdit:
    """The --js-* flags: values for one tier, and enable/disable/remove requests."""

    tier: int = 0
    values: dict[str, int] = field(default_factory=dict)
    max_bytes_required: bool | None = None
    enable: int | None = None
    disable: bool = False
    rm_tiers: list[int] = field(default_factory=list)

    def is_empty(self) -> bool:
        """True when no JetStream flag was given."""
        return not (
            self.values
            or self.max_bytes_required is not None
            or self.enable is not None
            or self.disable
            or self.rm_tiers
        )

    def apply(self, limits: OperatorLimits) -> None:
        """Change limits in place; flat and tiered limits may not be mixed."""
        if self.disable:
            if self.values or self.enable is not None:
                raise UsageProblem("--js-disable cannot be combined with other --js-* flags")
            limits.jetstream = JetStreamLimits()
            limits.tiered_limits = {}
            return
        for tier in self.rm_tiers:
            name = tier_name(tier)
            if name == "":
                limits.jetstream = JetStreamLimits()
            elif limits.tiered_limits.pop(name, None) is None:
                raise UsageProblem(f"--rm-js-tier {tier}: the account has no tier {name}")
        if self.enable is not None:
            self._set(limits, tier_name(self.enable), enable=True)
        if self.values or self.max_bytes_required is not None:
            self._set(limits, tier_name(self.tier), enable=False)

    def _set(self, limits: OperatorLimits, name: str, *, enable: bool) -> None:
        if name == "" and limits.tiered_limits:
            raise UsageProblem(
                "the account has tiered JetStream limits "
                f"({', '.join(sorted(limits.tiered_limits))}): pass --js-tier N, or remove "
                "them with --rm-js-tier before setting global limits"
            )
        if name and not limits.jetstream.is_zero():
            raise UsageProblem(
                f"the account has global JetStream limits: remove them with --rm-js-tier 0 "
                f"before adding tier {name}"
            )
        target = (
            limits.jetstream
            if name == ""
            else limits.tiered_limits.setdefault(name, JetStreamLimits())
        )
        if enable:
            # nsc's --js-enable: unlimited storage, streams and consumers
            for attr in ("mem_storage", "disk_storage", "streams", "consumer"):
                setattr(target, attr, -1)
            return
        for attr, value in self.values.items():
            setattr(target, attr, value)
        if self.max_bytes_required is not None:
            target.max_bytes_required = self.max_bytes_required


@dataclass
class AccountEdit:
    """What `edit account` was asked for (None / empty = unchanged)."""

    account: str | None = None
    operator: str | None = None
    signer: str | None = None
    adopt: bool = False
    conns: int | None = None
    leaf_conns: int | None = None
    data: int | None = None
    payload: int | None = None
    subscriptions: int | None = None
    imports: int | None = None
    exports: int | None = None
    wildcard_exports: bool | None = None
    disallow_bearer: bool | None = None
    jetstream: JetStreamEdit = field(default_factory=JetStreamEdit)
    default_permissions: PermissionSpec = field(default_factory=PermissionSpec)
    signing_keys: list[str] = field(default_factory=list)
    rm_signing_keys: list[str] = field(default_factory=list)
    description: str | None = None
    info_url: str | None = None
    tags: list[str] = field(default_factory=list)
    rm_tags: list[str] = field(default_factory=list)
    start: int | None = None
    expiry: int | None = None
    trace_subject: str | None = None
    trace_sampling: int | None = None
    cluster_traffic: str | None = None


_LIMIT_ATTRS = (
    ("conns", "conn"),
    ("leaf_conns", "leaf"),
    ("data", "data"),
    ("payload", "payload"),
    ("subscriptions", "subs"),
    ("imports", "imports"),
    ("exports", "exports"),
    ("wildcard_exports", "wildcards"),
    ("disallow_bearer", "disallow_bearer"),
)


def edit_account(ws: Workspace, spec: AccountEdit) -> Saved:
    """Apply spec to the account JWT (under the store lock) and re-sign it."""
    ref = resolve_account(ws, spec.account, spec.operator)
    spec.default_permissions.check()
    new_keys = [signing_key_value(ws, v, keys.Prefix.ACCOUNT) for v in spec.signing_keys]
    # a generated key's seed goes first, so the JWT never names a key whose seed is lost; a
    # failed edit takes the seed back
    with all_or_nothing():
        for _, pair in new_keys:
            if pair is not None:
                ws.keystore.put(pair.seed)
        claims, _ = update_account(
            ws,
            ref,
            lambda c: _apply(c, spec, [k for k, _ in new_keys]),
            signer=spec.signer,
            adopt=spec.adopt,
        )
    saved = account_saved(ws, ref, claims)
    for public_key, pair in new_keys:
        if pair is not None:
            saved.notes.append(f"generated signing key {public_key} (seed stored)")
    return saved


def _apply(claims: AccountClaims, spec: AccountEdit, new_keys: list[str]) -> None:
    for flag, attr in _LIMIT_ATTRS:
        value = getattr(spec, flag)
        if value is not None:
            if isinstance(value, int) and not isinstance(value, bool) and value < -1:
                raise UsageProblem(f"--{flag.replace('_', '-')} must be -1 or more, got {value}")
            setattr(claims.limits, attr, value)
    spec.jetstream.apply(claims.limits)
    spec.default_permissions.apply(claims.default_permissions)
    for key in new_keys:
        if key == claims.subject:
            raise UsageProblem("the account identity key cannot also be one of its signing keys")
        if key not in claims.signing_keys:
            claims.signing_keys.add(key)
    for value in spec.rm_signing_keys:
        claims.signing_keys.remove(_signing_key_by_value(claims, value))
    if spec.description is not None:
        claims.description = spec.description
    if spec.info_url is not None:
        claims.info_url = spec.info_url
    claims.tags = edit_tags(claims.tags, spec.tags, spec.rm_tags)
    if spec.start is not None:
        claims.not_before = spec.start
    if spec.expiry is not None:
        claims.expires = spec.expiry
    _apply_trace(claims, spec)
    if spec.cluster_traffic is not None:
        claims.cluster_traffic = spec.cluster_traffic


def _apply_trace(claims: AccountClaims, spec: AccountEdit) -> None:
    if spec.trace_subject == "":
        if spec.trace_sampling:
            raise UsageProblem("--trace-context-sampling needs a --trace-context-subject")
        claims.trace = None
        return
    if spec.trace_subject is None and spec.trace_sampling is None:
        return
    if spec.trace_sampling is not None and not 1 <= spec.trace_sampling <= 100:
        raise UsageProblem(f"--trace-context-sampling must be 1..100, got {spec.trace_sampling}")
    trace = claims.trace or MsgTrace(dest="trace.messages", sampling=100)
    if spec.trace_subject is not None:
        problem = subject_problem(spec.trace_subject)
        if problem is not None:
            raise UsageProblem(
                f"--trace-context-subject {spec.trace_subject!r}: nats-server would never "
                f"match it: {problem}"
            )
        trace.dest = spec.trace_subject
    if spec.trace_sampling is not None:
        trace.sampling = spec.trace_sampling
    claims.trace = trace


def _signing_key_by_value(claims: AccountClaims, value: str) -> str:
    """A signing key given by public key or by its scope's role name."""
    if value in claims.signing_keys:
        return value
    key = key_for_role(claims.signing_keys, value)
    if key is not None:
        return key
    raise UsageProblem(
        f"{shown(value)} is not a signing key (or scoped role) of account {claims.name!r}"
    )
