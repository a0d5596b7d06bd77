"""Activation claims: an exporting account grants an importing account a stream or service."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any, ClassVar

from nscpy.jwt._model import (
    dec_str,
    wire,
)
from nscpy.jwt.claims import Claims, ClaimType, is_key, validate_times
from nscpy.jwt.errors import InvalidClaims, MalformedToken
from nscpy.jwt.subject import validate_subject
from nscpy.jwt.validation import ValidationResults, go_quote
from nscpy.keys import Prefix

__all__ = ["ActivationClaims", "EXPORT_TYPES", "dec_export_type", "clean_subject"]

EXPORT_TYPES = ("stream", "service")
"""The export/import kinds; "" is Go's Unknown (omitted on the wire)."""


def dec_export_type(raw: Any, where: str) -> str:
    """Go's ExportType: only "stream" or "service" decode; anything else fails the token."""
    if type(raw) is not str:
        raise MalformedToken(f"JSON field {where!r} must be a string")
    if raw not in EXPORT_TYPES:
        raise MalformedToken(f"unknown export type {go_quote(raw)}")
    return raw


def enc_export_type(value: str) -> str:
    """Refuse kinds Go cannot write."""
    if value not in EXPORT_TYPES:
        raise InvalidClaims(f'export type must be "stream" or "service", got {go_quote(value)}')
    return value


def clean_subject(subject: str) -> str:
    """The subject cut before its first wildcard token ("_" if that is the first token)."""
    tokens = subject.split(".")
    for index, token in enumerate(tokens):
        if token in ("*", ">"):
            return "_" if index == 0 else ".".join(tokens[:index])
    return subject


@dataclass
class ActivationClaims(Claims):
    """An activation JWT: issuer the exporter (or its signing key), subject the importer."""

    import_subject: str = field(default="", metadata=wire("subject", dec=dec_str))
    import_type: str = field(
        default="", metadata=wire("kind", enc=enc_export_type, dec=dec_export_type)
    )
    issuer_account: str = field(default="", metadata=wire(dec=dec_str))

    CLAIM_TYPE: ClassVar[str] = ClaimType.ACTIVATION
    EXPECTED_ISSUERS: ClassVar[tuple[Prefix, ...] | None] = (Prefix.ACCOUNT, Prefix.OPERATOR)

    @classmethod
    def new(cls, subject: str) -> ActivationClaims:
        """As Go's NewActivationClaims: subject is the importing account."""
        return cls(subject=subject)

    def prepare_encode(self) -> None:
        """The subject (the importer) must be an account key."""
        if not is_key(self.subject, Prefix.ACCOUNT):
            raise InvalidClaims("expected subject to be an account")

    def validate(self, results: ValidationResults, *, now: int) -> None:
        """Time checks, kind, subject, issuer_account role."""
        self.validate_with_time_checks(results, now=now, time_checks=True)

    def validate_with_time_checks(
        self, results: ValidationResults, *, now: int, time_checks: bool
    ) -> None:
        """validate(), optionally without exp/nbf (an import's embedded token skips them)."""
        if time_checks:
            validate_times(self, results, now)
        if self.import_type not in EXPORT_TYPES:
            results.add_error(f"invalid import type: {go_quote(_type_name(self.import_type))}")
        validate_subject(self.import_subject, results)
        if self.issuer_account and not is_key(self.issuer_account, Prefix.ACCOUNT):
            results.add_error("account_id is not an account public key")

    def hash_id(self) -> str:
        """Go's HashID: base32 (padded) SHA-256 of "iss.sub.cleaned-subject"."""
        if not self.issuer or not self.subject or not self.import_subject:
            raise InvalidClaims("not enough data in the activaion claims to create a hash")
        base = f"{self.issuer}.{self.subject}.{clean_subject(self.import_subject)}"
        return base64.b32encode(hashlib.sha256(base.encode("utf-8")).digest()).decode("ascii")


def _type_name(kind: str) -> str:
    # Go formats the ExportType with %q, which prints its String(): "unknown" for anything else
    return kind if kind in EXPORT_TYPES else "unknown"
