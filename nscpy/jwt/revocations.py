"""Revocation lists: public key (or "*") -> Unix seconds; JWTs issued at or before are revoked."""

from __future__ import annotations

from typing import Any

from nscpy.jwt._model import dec_int_map

__all__ = ["ALL", "RevocationList", "is_revoked"]

ALL = "*"
"""The key that revokes every JWT issued at or before its timestamp."""


class RevocationList(dict[str, int]):
    """Go's RevocationList: a plain mapping, written with sorted keys."""

    def revoke(self, public_key: str, at: int) -> None:
        """Revoke JWTs for public_key issued at or before `at`; a later existing entry wins."""
        current = self.get(public_key)
        if current is not None and current > at:
            return
        self[public_key] = at

    def clear(self, public_key: str | None = None) -> None:
        """Remove public_key's entry (Go's ClearRevocation); with no argument, empty the list."""
        if public_key is None:
            super().clear()
        else:
            self.pop(public_key, None)

    def is_revoked(self, public_key: str, issued_at: int) -> bool:
        """True when "*" or public_key has a timestamp >= issued_at (same second is revoked)."""
        return is_revoked(self, public_key, issued_at)

    def compact(self) -> list[tuple[str, int]]:
        """Drop entries covered by "*" (timestamp <= the "*" one); returns what was dropped."""
        everyone = self.get(ALL)
        if everyone is None:
            return []
        dropped = [(k, t) for k, t in self.items() if k != ALL and t <= everyone]
        for key, _ in dropped:
            del self[key]
        return dropped

    def to_json_dict(self) -> dict[str, int]:
        """The map with keys sorted, as Go writes it."""
        return {key: self[key] for key in sorted(self)}


def is_revoked(revocations: dict[str, int], public_key: str, issued_at: int) -> bool:
    """The revocation rule on any mapping: "*" or the key's entry >= issued_at."""
    everyone = revocations.get(ALL)
    if everyone is not None and everyone >= issued_at:
        return True
    own = revocations.get(public_key)
    return own is not None and own >= issued_at


def dec_revocations(raw: Any, where: str) -> RevocationList:
    """Decode a JSON revocation object."""
    return RevocationList(dec_int_map(raw, where))


def enc_revocations(value: dict[str, int]) -> dict[str, int]:
    """Encode with sorted keys."""
    return {key: value[key] for key in sorted(value)}
