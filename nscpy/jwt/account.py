"""Account claims: limits, imports/exports, signing keys, revocations, mappings, auth callout."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from nscpy.jwt._model import (
    Model,
    dec_bool,
    dec_int,
    dec_model,
    dec_model_list,
    dec_str,
    dec_str_list,
    dec_uint8,
    enc_model,
    enc_model_list,
    wire,
)
from nscpy.jwt.claims import Claims, ClaimType, is_key, validate_times
from nscpy.jwt.errors import InvalidClaims, MalformedToken
from nscpy.jwt.exports import Export, validate_exports, validate_info
from nscpy.jwt.imports import Import, validate_imports
from nscpy.jwt.permissions import NO_LIMIT, Permissions
from nscpy.jwt.revocations import RevocationList, dec_revocations, enc_revocations, is_revoked
from nscpy.jwt.signing_keys import SigningKeys, dec_signing_keys, enc_signing_keys
from nscpy.jwt.subject import has_wildcards, validate_subject
from nscpy.jwt.validation import ValidationResults, go_quote
from nscpy.keys import Prefix

__all__ = [
    "ANY_ACCOUNT",
    "JetStreamLimits",
    "OperatorLimits",
    "WeightedMapping",
    "ExternalAuthorization",
    "MsgTrace",
    "AccountClaims",
]

ANY_ACCOUNT = "*"
"""allowed_accounts value that lets an auth callout place users in any account."""


@dataclass
class JetStreamLimits(Model):
    """JetStream limits (flat, or one tier); 0 storage means JetStream disabled, -1 unlimited."""

    mem_storage: int = field(default=0, metadata=wire(dec=dec_int))
    disk_storage: int = field(default=0, metadata=wire(dec=dec_int))
    streams: int = field(default=0, metadata=wire(dec=dec_int))
    consumer: int = field(default=0, metadata=wire(dec=dec_int))
    max_ack_pending: int = field(default=0, metadata=wire(dec=dec_int))
    mem_max_stream_bytes: int = field(default=0, metadata=wire(dec=dec_int))
    disk_max_stream_bytes: int = field(default=0, metadata=wire(dec=dec_int))
    max_bytes_required: bool = field(default=False, metadata=wire(dec=dec_bool))

    def is_zero(self) -> bool:
        """True when every field is zero (JetStream disabled)."""
        return self == JetStreamLimits()

    def is_enabled(self) -> bool:
        """True when memory or disk storage is allowed."""
        return self.mem_storage != 0 or self.disk_storage != 0


def _dec_tiers(raw: Any, where: str) -> dict[str, JetStreamLimits]:
    if type(raw) is not dict:
        raise MalformedToken(f"JSON field {where!r} must be an object")
    return {
        tier: JetStreamLimits() if value is None else JetStreamLimits.from_json_dict(value, where)
        for tier, value in raw.items()
    }


def _enc_tiers(value: dict[str, JetStreamLimits]) -> dict[str, Any]:
    return {tier: value[tier].to_json_dict() for tier in sorted(value)}


@dataclass
class OperatorLimits(Model):
    """Account limits set by the operator; -1 means unlimited and 0 means zero."""

    subs: int = field(default=0, metadata=wire(dec=dec_int))
    data: int = field(default=0, metadata=wire(dec=dec_int))
    payload: int = field(default=0, metadata=wire(dec=dec_int))
    imports: int = field(default=0, metadata=wire(dec=dec_int))
    exports: int = field(default=0, metadata=wire(dec=dec_int))
    wildcards: bool = field(default=False, metadata=wire(dec=dec_bool))
    disallow_bearer: bool = field(default=False, metadata=wire(dec=dec_bool))
    conn: int = field(default=0, metadata=wire(dec=dec_int))
    leaf: int = field(default=0, metadata=wire(dec=dec_int))
    # Go embeds JetStreamLimits: its fields sit in this object (flat: dec names the model)
    jetstream: JetStreamLimits = field(
        default_factory=JetStreamLimits,
        metadata=wire(dec=JetStreamLimits, flat=True),  # type: ignore[arg-type]
    )
    tiered_limits: dict[str, JetStreamLimits] = field(
        default_factory=dict, metadata=wire(enc=_enc_tiers, dec=_dec_tiers, nullable=True)
    )

    @classmethod
    def unlimited(cls) -> OperatorLimits:
        """NewAccountClaims' limits: everything -1, wildcards allowed, JetStream disabled."""
        return cls(-1, -1, -1, -1, -1, True, False, -1, -1)

    def is_empty(self) -> bool:
        """True when every limit is the zero value."""
        return self == OperatorLimits()

    def is_js_enabled(self) -> bool:
        """True when JetStream is enabled (any tier, or the flat limits)."""
        if self.tiered_limits:
            return any(tier.is_enabled() for tier in self.tiered_limits.values())
        return self.jetstream.is_enabled()

    def validate(self, results: ValidationResults) -> None:
        """Flat and tiered JetStream limits are exclusive; no blank tier name."""
        if self.tiered_limits:
            if not self.jetstream.is_zero():
                results.add_error(
                    "JetStream Limits and tiered JetStream Limits are mutually exclusive"
                )
            if "" in self.tiered_limits:
                results.add_error('Tiered JetStream Limits can not contain a blank "" tier name')


@dataclass
class WeightedMapping(Model):
    """One destination of a subject mapping; weight 0 means 100."""

    subject: str = field(default="", metadata=wire(dec=dec_str, omitempty=False))
    weight: int = field(default=0, metadata=wire(dec=dec_uint8))
    cluster: str = field(default="", metadata=wire(dec=dec_str))

    def get_weight(self) -> int:
        """The effective weight (0 counts as 100)."""
        return self.weight or 100


def _dec_mappings(raw: Any, where: str) -> dict[str, list[WeightedMapping]]:
    if type(raw) is not dict:
        raise MalformedToken(f"JSON field {where!r} must be an object")
    decode = dec_model_list(WeightedMapping)
    return {key: [] if value is None else decode(value, where) for key, value in raw.items()}


def _enc_mappings(value: dict[str, list[WeightedMapping]]) -> dict[str, Any]:
    return {key: enc_model_list(value[key]) for key in sorted(value)}  # type: ignore[arg-type]


def _validate_mappings(
    mappings: dict[str, list[WeightedMapping]], results: ValidationResults
) -> None:
    for source in sorted(mappings):
        validate_subject(source, results)
        total = 0
        per_cluster: dict[str, int] = {}
        for entry in mappings[source]:
            validate_subject(entry.subject, results)
            weight = entry.get_weight()
            if weight > 100:
                results.add_error(
                    f"Mapping {go_quote(source)} has a weight {weight} that exceeds 100"
                )
            if entry.cluster:
                per_cluster[entry.cluster] = per_cluster.get(entry.cluster, 0) + weight
                if per_cluster[entry.cluster] > 100:
                    results.add_error(
                        f"Mapping {go_quote(source)} in cluster {go_quote(entry.cluster)}"
                        " exceeds 100% among all of it's weighted to mappings"
                    )
            else:
                total += weight
        if total > 100:
            results.add_error(
                f"Mapping {go_quote(source)} exceeds 100% among all of it's weighted to mappings"
            )


@dataclass
class ExternalAuthorization(Model):
    """Auth callout: auth_users bypass it (and enable it), allowed_accounts, optional xkey."""

    auth_users: list[str] = field(
        default_factory=list, metadata=wire(dec=dec_str_list, nullable=True)
    )
    allowed_accounts: list[str] = field(
        default_factory=list, metadata=wire(dec=dec_str_list, nullable=True)
    )
    xkey: str = field(default="", metadata=wire(dec=dec_str))

    def is_enabled(self) -> bool:
        """True when the account uses an auth callout."""
        return bool(self.auth_users)

    def validate(self, results: ValidationResults) -> None:
        """Go's ExternalAuthorization.Validate."""
        if self.allowed_accounts and not self.auth_users:
            results.add_error("External authorization cannot have accounts without users specified")
        for user in self.auth_users:
            if not is_key(user, Prefix.USER):
                results.add_error(f"AuthUser {go_quote(user)} is not a valid user public key")
        for account in self.allowed_accounts:
            if account == ANY_ACCOUNT:
                if len(self.allowed_accounts) > 1:
                    results.add_error(
                        f"AllowedAccounts can only be a list of accounts or {go_quote(ANY_ACCOUNT)}"
                    )
            elif not is_key(account, Prefix.ACCOUNT):
                results.add_error(f"Account {go_quote(account)} is not a valid account public key")
        if self.xkey and not is_key(self.xkey, Prefix.CURVE):
            results.add_error(f"XKey {go_quote(self.xkey)} is not a valid public xkey")


@dataclass
class MsgTrace(Model):
    """Message tracing: destination subject and sampling percentage."""

    dest: str = field(default="", metadata=wire(dec=dec_str))
    sampling: int = field(default=0, metadata=wire(dec=dec_int))


@dataclass
class AccountClaims(Claims):
    """An account JWT. Defaults are Go's zero values: use AccountClaims.new() for -1 limits."""

    imports: list[Import] = field(
        default_factory=list,
        metadata=wire(enc=enc_model_list, dec=dec_model_list(Import), nullable=True),
    )
    exports: list[Export] = field(
        default_factory=list,
        metadata=wire(enc=enc_model_list, dec=dec_model_list(Export), nullable=True),
    )
    limits: OperatorLimits = field(
        default_factory=OperatorLimits,
        metadata=wire(enc=enc_model, dec=dec_model(OperatorLimits), omitempty=False),
    )
    signing_keys: SigningKeys = field(
        default_factory=SigningKeys,
        metadata=wire(enc=enc_signing_keys, dec=dec_signing_keys, nullable=True),
    )
    revocations: RevocationList = field(
        default_factory=RevocationList,
        metadata=wire(enc=enc_revocations, dec=dec_revocations, nullable=True),
    )
    default_permissions: Permissions = field(
        default_factory=Permissions,
        metadata=wire(enc=enc_model, dec=dec_model(Permissions), omitempty=False),
    )
    mappings: dict[str, list[WeightedMapping]] = field(
        default_factory=dict, metadata=wire(enc=_enc_mappings, dec=_dec_mappings, nullable=True)
    )
    authorization: ExternalAuthorization = field(
        default_factory=ExternalAuthorization,
        metadata=wire(enc=enc_model, dec=dec_model(ExternalAuthorization), omitempty=False),
    )
    trace: MsgTrace | None = field(
        default=None, metadata=wire(enc=enc_model, dec=dec_model(MsgTrace), nullable=True)
    )
    cluster_traffic: str = field(default="", metadata=wire(dec=dec_str))
    description: str = field(default="", metadata=wire(dec=dec_str))
    info_url: str = field(default="", metadata=wire(dec=dec_str))

    CLAIM_TYPE: ClassVar[str] = ClaimType.ACCOUNT
    EXPECTED_ISSUERS: ClassVar[tuple[Prefix, ...] | None] = (Prefix.ACCOUNT, Prefix.OPERATOR)

    @classmethod
    def new(cls, subject: str) -> AccountClaims:
        """As Go's NewAccountClaims: unlimited (-1) limits, wildcards allowed, JetStream off."""
        return cls(subject=subject, limits=OperatorLimits.unlimited())

    def load_json(self, raw: Any, where: str = "payload") -> None:
        """Overlay a parsed payload; non-empty tiered limits clear the flat JetStream limits."""
        super().load_json(raw, where)
        if self.limits.tiered_limits:
            self.limits.jetstream = JetStreamLimits()

    def prepare_encode(self) -> None:
        """Subject must be an account key; imports and exports are sorted by subject."""
        if not is_key(self.subject, Prefix.ACCOUNT):
            raise InvalidClaims("expected subject to be account public key")
        self.exports.sort(key=lambda e: e.subject)
        self.imports.sort(key=lambda i: i.subject)

    def validate(self, results: ValidationResults, *, now: int) -> None:
        """Go's AccountClaims.Validate (note: a trace sampling of 0 is set to 100, as in Go)."""
        validate_times(self, results, now)
        validate_imports(self.imports, self.subject, results, now=now)
        validate_exports(self.exports, results)
        self.limits.validate(results)
        self.default_permissions.validate_permissions(results)
        _validate_mappings(self.mappings, results)
        self.authorization.validate(results)
        self._validate_trace(results)
        self._validate_counts(results)
        self.signing_keys.validate(results)
        validate_info(self.description, self.info_url, results)
        if self.cluster_traffic not in ("", "system", "owner"):
            results.add_error(f"unknown cluster traffic option: {go_quote(self.cluster_traffic)}")
        if is_key(self.issuer, Prefix.ACCOUNT) and not self.limits.is_empty():
            results.add_warning("self-signed account JWTs shouldn't contain operator limits")

    def _validate_trace(self, results: ValidationResults) -> None:
        trace = self.trace
        if trace is None:
            return
        dest = ValidationResults()
        validate_subject(trace.dest, dest)
        if not dest.is_empty():
            results.add_error(f"the account Trace.Destination {dest.issues[0].description}")
        if has_wildcards(trace.dest):
            results.add_error(
                f"the account Trace.Destination subject {go_quote(trace.dest)}"
                " is not a valid publish subject"
            )
        if not 0 <= trace.sampling <= 100:
            results.add_error(
                f"the account Trace.Sampling value '{trace.sampling}' is not valid,"
                " should be in the range [1..100]"
            )
        elif trace.sampling == 0:
            trace.sampling = 100

    def _validate_counts(self, results: ValidationResults) -> None:
        limits = self.limits
        too_many_imports = "the account contains more imports than allowed by the operator"
        # Go checks imports twice (once only for non-empty limits); both can fire
        if not limits.is_empty() and 0 <= limits.imports < len(self.imports):
            results.add_error(too_many_imports)
        if limits.imports != NO_LIMIT and len(self.imports) > limits.imports:
            results.add_error(too_many_imports)
        if limits.exports != NO_LIMIT:
            if len(self.exports) > limits.exports:
                results.add_error("the account contains more exports than allowed by the operator")
            if not limits.wildcards:
                for export in self.exports:
                    if has_wildcards(export.subject):
                        results.add_error(
                            "the account contains wildcard exports that are not allowed"
                            " by the operator"
                        )

    def revoke(self, public_key: str, at: int) -> None:
        """Revoke user JWTs for public_key issued at or before `at`."""
        self.revocations.revoke(public_key, at)

    def is_claim_revoked(self, user: Claims | None) -> bool:
        """Go's IsClaimRevoked: true for no claim, iat 0, empty subject, or a revocation."""
        if user is None or not user.issued_at or not user.subject:
            return True
        return is_revoked(self.revocations, user.subject, user.issued_at)

    def did_sign(self, claims: Claims) -> bool:
        """True when this account issued claims (identity key, or signing key + issuer_account)."""
        if claims.issuer == self.subject:
            return True
        issuer_account = getattr(claims, "issuer_account", None)
        if claims.CLAIM_TYPE in (ClaimType.USER, ClaimType.ACTIVATION):
            return issuer_account == self.subject and claims.issuer in self.signing_keys
        return False

    def has_external_authorization(self) -> bool:
        """True when the account uses an auth callout."""
        return self.authorization.is_enabled()
