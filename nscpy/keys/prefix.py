"""NKey prefix bytes: the first base32 character of a key says its role."""

from __future__ import annotations

import enum

from nscpy.keys.errors import InvalidPrefix

__all__ = ["Prefix", "PUBLIC_PREFIXES"]


class Prefix(enum.IntEnum):
    """A prefix byte: a base32 digit shifted left by 3, so the encoded key starts with that letter
    (nats-io/nkeys strkey.go)."""

    SEED = 18 << 3  # 'S'
    PRIVATE = 15 << 3  # 'P'
    SERVER = 13 << 3  # 'N'
    CLUSTER = 2 << 3  # 'C'
    OPERATOR = 14 << 3  # 'O'
    ACCOUNT = 0  # 'A'
    USER = 20 << 3  # 'U'
    CURVE = 23 << 3  # 'X'

    @property
    def letter(self) -> str:
        """The first character of a key string of this role."""
        return "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[self.value >> 3]

    @property
    def role(self) -> str:
        """The role's name as Go's PrefixByte.String() spells it."""
        return _NAMES[self]

    @classmethod
    def from_letter(cls, letter: str) -> Prefix:
        """The public role for a letter (O, A, U, N, C, X); raises InvalidPrefix otherwise."""
        for p in PUBLIC_PREFIXES:
            if p.letter == letter.upper():
                return p
        raise InvalidPrefix(f"{letter!r} is not an NKey role letter (O, A, U, N, C or X)")

    @classmethod
    def from_name(cls, name: str) -> Prefix:
        """The public role for a name ('operator', 'user', 'curve', ...); else InvalidPrefix."""
        lowered = name.lower()
        if lowered == "curve":
            return cls.CURVE
        for p in PUBLIC_PREFIXES:
            if p.role == lowered:
                return p
        raise InvalidPrefix(
            f"{name!r} is not an NKey role (operator, account, user, server, cluster, curve)"
        )


_NAMES = {
    Prefix.SEED: "seed",
    Prefix.PRIVATE: "private",
    Prefix.SERVER: "server",
    Prefix.CLUSTER: "cluster",
    Prefix.OPERATOR: "operator",
    Prefix.ACCOUNT: "account",
    Prefix.USER: "user",
    Prefix.CURVE: "x25519",
}

PUBLIC_PREFIXES: frozenset[Prefix] = frozenset(
    {Prefix.OPERATOR, Prefix.SERVER, Prefix.CLUSTER, Prefix.ACCOUNT, Prefix.USER, Prefix.CURVE}
)
