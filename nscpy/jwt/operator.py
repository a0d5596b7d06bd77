"""Operator claims: the root of trust (signing keys, system account, service URLs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import urlsplit

from nscpy.jwt._model import (
    dec_bool,
    dec_str,
    dec_str_list,
    wire,
)
from nscpy.jwt.claims import Claims, ClaimType, is_key
from nscpy.jwt.errors import InvalidClaims
from nscpy.jwt.validation import ValidationResults, go_quote
from nscpy.keys import Prefix

__all__ = ["OperatorClaims", "parse_server_version", "validate_operator_service_url"]


def _go_atoi(text: str) -> int | None:
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    return int(text)


def parse_server_version(version: str) -> tuple[int, int, int]:
    """Parse "major.minor.update" (empty means 0.0.0); raises InvalidClaims as Go's message."""
    if version == "":
        return 0, 0, 0
    parts = version.split(".")
    if len(parts) != 3:
        raise InvalidClaims("asserted server version must be of the form <major>.<minor>.<update>")
    numbers = []
    for part in parts:
        number = _go_atoi(part)
        if number is None:
            raise InvalidClaims(f"asserted server version cant parse {part} to int")
        numbers.append(number)
    if min(numbers) < 0:
        raise InvalidClaims(f"asserted server version can'b contain negative values: {version}")
    return numbers[0], numbers[1], numbers[2]


def _account_server_url_error(url: str) -> str | None:
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme
    except ValueError as exc:
        return f"error parsing account server url: {exc}"
    if not scheme:
        return f"account server url {go_quote(url)} requires a protocol"
    return None


def validate_operator_service_url(url: str) -> str | None:
    """None when url is a usable operator service URL, else Go's error text."""
    if not url:
        return None
    quoted = go_quote(url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return f"error parsing operator service url {quoted}: {exc}"
    if "@" in parts.netloc:
        return f"operator service url {quoted} - credentials are not supported"
    if parts.path:
        return f"operator service url {quoted} - paths are not supported"
    if parts.scheme.lower() not in ("nats", "tls", "ws", "wss"):
        return (
            f"operator service url {quoted} - protocol not supported"
            " (only 'nats', 'tls', 'ws', 'wss' only)"
        )
    return None


@dataclass
class OperatorClaims(Claims):
    """An operator JWT (subject and issuer: the operator key, or issuer one of its signing keys)."""

    signing_keys: list[str] = field(
        default_factory=list, metadata=wire(dec=dec_str_list, nullable=True)
    )
    account_server_url: str = field(default="", metadata=wire(dec=dec_str))
    operator_service_urls: list[str] = field(
        default_factory=list, metadata=wire(dec=dec_str_list, nullable=True)
    )
    system_account: str = field(default="", metadata=wire(dec=dec_str))
    assert_server_version: str = field(default="", metadata=wire(dec=dec_str))
    strict_signing_key_usage: bool = field(default=False, metadata=wire(dec=dec_bool))

    CLAIM_TYPE: ClassVar[str] = ClaimType.OPERATOR
    EXPECTED_ISSUERS: ClassVar[tuple[Prefix, ...] | None] = (Prefix.OPERATOR,)

    @classmethod
    def new(cls, subject: str) -> OperatorClaims:
        """As Go's NewOperatorClaims: subject and issuer both the operator key."""
        return cls(subject=subject, issuer=subject)

    def prepare_encode(self) -> None:
        """Subject must be an operator key and account_server_url must carry a scheme."""
        if not is_key(self.subject, Prefix.OPERATOR):
            raise InvalidClaims("expected subject to be an operator public key")
        problem = _account_server_url_error(self.account_server_url)
        if problem:
            raise InvalidClaims(problem)

    def validate(self, results: ValidationResults, *, now: int) -> None:
        """Time checks, URLs, signing keys, system account and asserted server version."""
        super().validate(results, now=now)
        problem = _account_server_url_error(self.account_server_url)
        if problem:
            results.add_error(problem)
        for url in self.operator_service_urls:
            problem = validate_operator_service_url(url)
            if problem:
                results.add_error(problem)
        for key in self.signing_keys:
            if not is_key(key, Prefix.OPERATOR):
                results.add_error(f"{key} is not an operator public key")
        if self.system_account and not is_key(self.system_account, Prefix.ACCOUNT):
            results.add_error(f"{self.system_account} is not an account public key")
        try:
            parse_server_version(self.assert_server_version)
        except InvalidClaims as exc:
            results.add_error(f"assert server version error: {exc}")

    def did_sign(self, claims: Claims) -> bool:
        """True when this operator issued claims (identity key unless strict, or a signing key)."""
        if claims.issuer == self.subject:
            return not self.strict_signing_key_usage or claims.subject == self.subject
        return claims.issuer in self.signing_keys
