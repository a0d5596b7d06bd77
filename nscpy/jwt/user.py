"""User claims: a client identity with its permissions and limits, signed by an account key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from nscpy.jwt._model import (
    dec_str,
    wire,
)
from nscpy.jwt.claims import Claims, ClaimType, find_nats, is_key, validate_times
from nscpy.jwt.errors import InvalidClaims
from nscpy.jwt.permissions import NO_LIMIT, UserPermissionLimits, wire_has_empty_arrays
from nscpy.jwt.validation import ValidationResults
from nscpy.keys import Prefix

__all__ = ["UserClaims"]


@dataclass
class UserClaims(Claims, UserPermissionLimits):
    """A user JWT. Defaults are Go's zero values: use UserClaims.new() for usable -1 limits."""

    issuer_account: str = field(default="", metadata=wire(dec=dec_str))
    """The account identity key, when issued by one of the account's signing keys."""

    CLAIM_TYPE: ClassVar[str] = ClaimType.USER
    EXPECTED_ISSUERS: ClassVar[tuple[Prefix, ...] | None] = (Prefix.ACCOUNT,)

    @classmethod
    def new(cls, subject: str) -> UserClaims:
        """As Go's NewUserClaims: subs, data and payload unlimited (-1)."""
        return cls(subject=subject, subs=NO_LIMIT, data=NO_LIMIT, payload=NO_LIMIT)

    def load_json(self, raw: object, where: str = "payload") -> None:
        """Overlay a parsed payload, noting present-but-empty arrays in the nats object."""
        Claims.load_json(self, raw, where)
        nats = find_nats(raw) if isinstance(raw, dict) else None
        if isinstance(nats, dict) and wire_has_empty_arrays(nats):
            self.wire_empty_arrays = True

    def prepare_encode(self) -> None:
        """The subject must be a user key."""
        if not is_key(self.subject, Prefix.USER):
            raise InvalidClaims("expected subject to be user public key")

    def validate(self, results: ValidationResults, *, now: int) -> None:
        """Time checks, permissions, src CIDRs, times, time zone, issuer_account role."""
        validate_times(self, results, now)
        self.validate_limits(results)
        if self.issuer_account and not is_key(self.issuer_account, Prefix.ACCOUNT):
            results.add_error("account_id is not an account public key")

    def is_bearer_token(self) -> bool:
        """True when the server should skip the nonce signature check."""
        return self.bearer_token
