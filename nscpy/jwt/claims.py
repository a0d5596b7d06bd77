"""The claims every JWT carries (Go's ClaimsData) and the base class of the typed claim kinds.

A typed claim is one flat dataclass: the eight standard claims (aud, exp, jti, iat, iss, name, nbf,
sub, named audience, expires, id, issued_at, issuer, name, not_before, subject) plus the fields of
its `nats` object. The `nats` object always ends with tags, type and version (Go's GenericFields).
Defaults are Go's zero values; `new()` on each kind gives the defaults Go's NewXxxClaims sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from nscpy.jwt._b32 import public_key_role_byte
from nscpy.jwt._model import (
    Field,
    Model,
    dec_int,
    dec_str,
    dec_str_list,
    field_maps,
    fold_keys,
    overlay,
    wire,
    wire_fields,
)
from nscpy.jwt.validation import ValidationResults
from nscpy.keys import Prefix

__all__ = [
    "Claims",
    "ClaimsData",
    "ClaimType",
    "LIB_VERSION",
    "STANDARD_FIELDS",
    "find_nats",
    "is_key",
    "validate_times",
]

LIB_VERSION = 2
"""The JWT format version this library writes (nats.version)."""

C = TypeVar("C", bound="Claims")


class ClaimType:
    """The nats.type strings."""

    OPERATOR = "operator"
    ACCOUNT = "account"
    USER = "user"
    ACTIVATION = "activation"
    AUTHORIZATION_REQUEST = "authorization_request"
    AUTHORIZATION_RESPONSE = "authorization_response"
    GENERIC = "generic"


def find_nats(raw: dict[str, Any]) -> Any:
    """The payload's nats value, matched case-insensitively as Go does (None when absent)."""
    if "nats" in raw:
        return raw["nats"]
    return fold_keys(raw, _TOP_KEYS).get("nats")


def is_key(text: str, prefix: Prefix) -> bool:
    """True when text is a valid public key of the given role."""
    # the jwt hot path checks a fresh subject per token; the table decoder is ~3x faster
    return isinstance(text, str) and public_key_role_byte(text) == prefix.value


def validate_times(claims: Any, results: ValidationResults, now: int) -> None:
    """Go's ClaimsData.Validate: expired when now > exp, not yet valid when nbf > now."""
    if claims.expires > 0 and now > claims.expires:
        results.add_time_check("claim is expired")
    if claims.not_before > 0 and claims.not_before > now:
        results.add_time_check("claim is not yet valid")


@dataclass
class ClaimsData(Model):
    """The standard claims (Go's ClaimsData), shared by the typed claims and GenericClaims."""

    audience: str = field(default="", metadata=wire("aud", dec=dec_str))
    expires: int = field(default=0, metadata=wire("exp", dec=dec_int))
    id: str = field(default="", metadata=wire("jti", dec=dec_str))
    issued_at: int = field(default=0, metadata=wire("iat", dec=dec_int))
    issuer: str = field(default="", metadata=wire("iss", dec=dec_str))
    name: str = field(default="", metadata=wire(dec=dec_str))
    not_before: int = field(default=0, metadata=wire("nbf", dec=dec_int))
    subject: str = field(default="", metadata=wire("sub", dec=dec_str))

    def standard_json_dict(self) -> dict[str, Any]:
        """The standard claims alone (the jti hash input when id is blank)."""
        out: dict[str, Any] = {}
        Model._fill_fields(self, STANDARD_FIELDS, out)
        return out


STANDARD_FIELDS: tuple[Field, ...] = ClaimsData.FIELDS
"""The standard claims in Go's order (aud, exp, jti, iat, iss, name, nbf, sub)."""
_TOP_KEYS = frozenset(f.name for f in STANDARD_FIELDS) | {"nats"}


@dataclass
class Claims(ClaimsData):
    """Base of the typed claims: the standard claims plus tags and version of the nats object."""

    # the nats object ends with Go's GenericFields: tags, type and version; type is fixed per
    # class and read only to find the kind (see jws.open_token)
    tags: list[str] = field(default_factory=list, metadata=wire(dec=dec_str_list, nullable=True))
    version: int = field(default=0, metadata=wire(dec=dec_int))

    CLAIM_TYPE: ClassVar[str] = ""
    EXPECTED_ISSUERS: ClassVar[tuple[Prefix, ...] | None] = None
    """Key roles that may sign this kind (None: any)."""
    NATS_FIELDS: ClassVar[tuple[Field, ...]] = ()
    """The kind's own fields of the nats object (before tags, type and version)."""
    _nats_by_name: ClassVar[dict[str, tuple[Field, str | None]]]
    _nats_folded: ClassVar[dict[str, tuple[Field, str | None]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = wire_fields(cls)
        cls.NATS_FIELDS = tuple(f for f in declared if f.attr not in _ENVELOPE)
        cls._nats_by_name, cls._nats_folded = field_maps(cls.NATS_FIELDS + _GENERIC_FIELDS)

    @classmethod
    def _object_fields(cls, declared: tuple[Field, ...]) -> tuple[Field, ...]:
        """The payload's own fields are the standard claims; the rest go in the nats object."""
        return STANDARD_FIELDS

    @property
    def claim_type(self) -> str:
        """The nats.type of this kind."""
        return self.CLAIM_TYPE

    def nats_json_dict(self) -> dict[str, Any]:
        """The nats object: kind fields in Go order, then tags, type, version."""
        nats: dict[str, Any] = {}
        Model._fill_fields(self, self.NATS_FIELDS, nats)
        if self.tags:
            nats["tags"] = self.tags
        nats["type"] = self.CLAIM_TYPE
        if self.version:
            nats["version"] = self.version
        return nats

    def to_json_dict(self) -> dict[str, Any]:
        """The whole payload as Go's json.Marshal writes it."""
        out = self.standard_json_dict()
        out["nats"] = self.nats_json_dict()
        return out

    def load_json(self, raw: Any, where: str = "payload") -> None:
        """Overlay a parsed payload (standard claims and the nats object)."""
        overlay(self, raw, where, self._by_name, self._folded)
        nats = find_nats(raw)
        if nats is not None:
            overlay(self, nats, "nats", self._nats_by_name, self._nats_folded)

    @classmethod
    def from_json_dict(cls: type[C], raw: Any, where: str = "payload") -> C:
        """Build from a parsed v2 payload."""
        obj = cls()
        obj.load_json(raw, where)
        return obj

    def prepare_encode(self) -> None:
        """Kind-specific checks and fix-ups before signing (subject role, sorting)."""

    def validate(self, results: ValidationResults, *, now: int) -> None:
        """Collect Go's Validate issues for this claim; never raises."""
        validate_times(self, results, now)

    def is_self_signed(self) -> bool:
        """True when issuer and subject are the same key."""
        return self.issuer == self.subject


_GENERIC_FIELDS = Claims._own_wire
_ENVELOPE = frozenset(f.attr for f in STANDARD_FIELDS + _GENERIC_FIELDS)
