"""Account exports: streams and services other accounts may import."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nscpy.jwt._model import (
    Model,
    dec_bool,
    dec_int,
    dec_str,
    dec_uint,
    enc_model,
    wire,
)
from nscpy.jwt.activation import EXPORT_TYPES, dec_export_type, enc_export_type
from nscpy.jwt.errors import InvalidClaims, MalformedToken
from nscpy.jwt.revocations import RevocationList, dec_revocations, enc_revocations, is_revoked
from nscpy.jwt.subject import has_wildcards, is_contained_in, validate_subject
from nscpy.jwt.validation import ValidationResults, go_quote

__all__ = [
    "RESPONSE_TYPES",
    "ServiceLatency",
    "Export",
    "validate_exports",
    "validate_info",
]

RESPONSE_TYPES = ("Singleton", "Stream", "Chunked")
"""Service response types ("" means Singleton)."""
MAX_INFO_LENGTH = 8 * 1024
HEADERS = 0
"""Latency sampling value meaning "sample requests that carry tracing headers"."""


def validate_info(description: str, info_url: str, results: ValidationResults) -> None:
    """Go's Info.Validate: description at most 8 KiB, info_url with scheme and host."""
    from urllib.parse import urlsplit

    if len(description.encode("utf-8")) > MAX_INFO_LENGTH:
        results.add_error("Description is too long")
    if info_url:
        if len(info_url.encode("utf-8")) > MAX_INFO_LENGTH:
            results.add_error("Info URL is too long")
        try:
            parts = urlsplit(info_url)
            ok = bool(parts.scheme) and bool(parts.hostname)
            problem = "no hostname or scheme"
        except ValueError as exc:
            ok, problem = False, str(exc)
        if not ok:
            results.add_error(f"error parsing info url: {problem}")


def _dec_sampling(raw: Any, where: str) -> int:
    if type(raw) is str:
        if raw.lower() == "headers":
            return HEADERS
        raise MalformedToken(f'JSON field {where!r} must be "headers" or an integer')
    return dec_int(raw, where)


def _enc_sampling(value: int) -> Any:
    if value == HEADERS:
        return "headers"
    if 1 <= value <= 100:
        return value
    raise InvalidClaims(f'latency sampling must be "headers" (0) or 1..100, got {value}')


@dataclass
class ServiceLatency(Model):
    """Latency tracking for a service: sampling 1..100 (or 0, "headers") and a results subject."""

    sampling: int = field(
        default=HEADERS, metadata=wire(enc=_enc_sampling, dec=_dec_sampling, omitempty=False)
    )
    results: str = field(default="", metadata=wire(dec=dec_str, omitempty=False))

    def validate(self, results: ValidationResults) -> None:
        """Sampling in range; results a subject without wildcards."""
        if self.sampling != 0 and not 1 <= self.sampling <= 100:
            results.add_error("sampling percentage needs to be between 1-100")
        validate_subject(self.results, results)
        if has_wildcards(self.results):
            results.add_error("results subject can not contain wildcards")


@dataclass
class Export(Model):
    """One export: a subject, its kind, and service options."""

    name: str = field(default="", metadata=wire(dec=dec_str))
    subject: str = field(default="", metadata=wire(dec=dec_str))
    type: str = field(default="", metadata=wire(enc=enc_export_type, dec=dec_export_type))
    token_req: bool = field(default=False, metadata=wire(dec=dec_bool))
    revocations: RevocationList = field(
        default_factory=RevocationList,
        metadata=wire(enc=enc_revocations, dec=dec_revocations, nullable=True),
    )
    response_type: str = field(default="", metadata=wire(dec=dec_str))
    response_threshold: int = field(default=0, metadata=wire(dec=dec_int))
    """Nanoseconds."""
    latency: ServiceLatency | None = field(
        default=None,
        metadata=wire(
            "service_latency",
            enc=enc_model,
            dec=lambda raw, where: ServiceLatency.from_json_dict(raw, where),
            nullable=True,
        ),
    )
    account_token_position: int = field(default=0, metadata=wire(dec=dec_uint))
    advertise: bool = field(default=False, metadata=wire(dec=dec_bool))
    allow_trace: bool = field(default=False, metadata=wire(dec=dec_bool))
    description: str = field(default="", metadata=wire(dec=dec_str))
    info_url: str = field(default="", metadata=wire(dec=dec_str))

    def is_service(self) -> bool:
        """True for a service export."""
        return self.type == "service"

    def is_stream(self) -> bool:
        """True for a stream export."""
        return self.type == "stream"

    def revoke(self, account: str, at: int) -> None:
        """Revoke activations for account issued at or before `at`."""
        self.revocations.revoke(account, at)

    def is_claim_revoked(self, activation: Any) -> bool:
        """Go's IsClaimRevoked: true for a missing claim, iat 0, empty subject, or a revocation."""
        if activation is None or not activation.issued_at or not activation.subject:
            return True
        return is_revoked(self.revocations, activation.subject, activation.issued_at)

    def validate(self, results: ValidationResults) -> None:
        """Go's Export.Validate."""
        if self.type not in EXPORT_TYPES:
            results.add_error(f"invalid export type: {go_quote(_kind_name(self.type))}")
        if self.is_service() and self.response_type not in ("", *RESPONSE_TYPES):
            results.add_error(f"invalid response type for service: {go_quote(self.response_type)}")
        if self.is_stream():
            if self.response_type:
                results.add_error(
                    f"invalid response type for stream: {go_quote(self.response_type)}"
                )
            if self.allow_trace:
                results.add_error("AllowTrace only valid for service export")
        if self.latency is not None:
            if not self.is_service():
                results.add_error("latency tracking only permitted for services")
            self.latency.validate(results)
        if self.response_threshold < 0:
            results.add_error("negative response threshold is invalid")
        if self.response_threshold > 0 and not self.is_service():
            results.add_error("response threshold only valid for services")
        validate_subject(self.subject, results)
        self._validate_token_position(results)
        validate_info(self.description, self.info_url, results)

    def _validate_token_position(self, results: ValidationResults) -> None:
        position = self.account_token_position
        if position <= 0:
            return
        if not has_wildcards(self.subject):
            results.add_error(
                f"Account Token Position can only be used with wildcard subjects: {self.subject}"
            )
            return
        tokens = self.subject.split(".")
        if position > len(tokens):
            results.add_error(
                f"Account Token Position {position} exceeds length of subject '{self.subject}'"
            )
        elif tokens[position - 1] != "*":
            results.add_error(
                f"Account Token Position {position} matches '{tokens[position - 1]}'"
                f" but must match a * in: {self.subject}"
            )


def _kind_name(kind: str) -> str:
    return kind if kind in EXPORT_TYPES else "unknown"


def _overlaps(kind: str, subjects: list[str], results: ValidationResults) -> None:
    # Go keeps, per containing subject, the first contained one it met; map order is random in
    # Go, so the issues are emitted here in sorted order to stay deterministic
    found: dict[str, str] = {}
    for i, inner in enumerate(subjects):
        for j, outer in enumerate(subjects):
            if i != j and is_contained_in(inner, outer) and outer not in found:
                found[outer] = inner
    for outer in sorted(found):
        results.add_error(
            f"{kind} export subject {go_quote(outer)} already exports {go_quote(found[outer])}"
        )


def validate_exports(exports: list[Export], results: ValidationResults) -> None:
    """Each export, then no export may contain another of the same kind."""
    services: list[str] = []
    streams: list[str] = []
    for export in exports:
        (services if export.is_service() else streams).append(export.subject)
        export.validate(results)
    _overlaps("service", services, results)
    _overlaps("stream", streams, results)
