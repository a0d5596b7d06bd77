"""Generic claims: the standard claims plus an arbitrary `nats` map (any issuer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from nscpy.jwt._model import fold_keys, overlay
from nscpy.jwt.claims import STANDARD_FIELDS, ClaimsData, ClaimType, validate_times
from nscpy.jwt.errors import MalformedToken
from nscpy.jwt.validation import ValidationResults
from nscpy.keys import Prefix

__all__ = ["GenericClaims", "KNOWN_TYPES"]

KNOWN_TYPES = frozenset(
    (
        ClaimType.OPERATOR,
        ClaimType.ACCOUNT,
        ClaimType.USER,
        ClaimType.ACTIVATION,
        ClaimType.AUTHORIZATION_REQUEST,
        ClaimType.AUTHORIZATION_RESPONSE,
    )
)
_TOP_KEYS = frozenset(f.name for f in STANDARD_FIELDS) | {"nats"}


def _sorted_map(value: Any) -> Any:
    """Go writes every map with sorted keys, nested ones included."""
    if isinstance(value, dict):
        return {key: _sorted_map(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_map(item) for item in value]
    return value


@dataclass
class GenericClaims(ClaimsData):
    """Any JWT: standard claims plus `data`, the nats object as a plain dict."""

    data: dict[str, Any] = field(default_factory=dict)

    EXPECTED_ISSUERS: ClassVar[tuple[Prefix, ...] | None] = None
    FLOATS: ClassVar[bool] = True

    @classmethod
    def new(cls, subject: str) -> GenericClaims:
        """As Go's NewGenericClaims."""
        return cls(subject=subject)

    @property
    def claim_type(self) -> str:
        """ "generic" unless data["type"] names a non-generic kind (Go's ClaimType)."""
        kind = self.data.get("type")
        if isinstance(kind, str):
            return kind if kind in KNOWN_TYPES else ClaimType.GENERIC
        return ""

    @property
    def version(self) -> int:
        """data["version"] as an int (0 when absent or not a number)."""
        value = self.data.get("version")
        return int(value) if isinstance(value, (int, float)) and value == value else 0

    @version.setter
    def version(self, value: int) -> None:
        self.data["version"] = value

    def to_json_dict(self) -> dict[str, Any]:
        """Standard claims, then the nats map with sorted keys (omitted when empty)."""
        out = self.standard_json_dict()
        if self.data:
            out["nats"] = _sorted_map(self.data)
        return out

    def load_json(self, raw: Any, where: str = "payload") -> None:
        """Overlay a parsed payload."""
        overlay(self, raw, where, self._by_name, self._folded)
        nats = fold_keys(raw, _TOP_KEYS).get("nats")
        if nats is not None:
            if type(nats) is not dict:
                raise MalformedToken("JSON field 'nats' must be an object")
            self.data = dict(nats)

    def prepare_encode(self) -> None:
        """No checks: any subject, any issuer."""

    def validate(self, results: ValidationResults, *, now: int) -> None:
        """Time checks only."""
        validate_times(self, results, now)
