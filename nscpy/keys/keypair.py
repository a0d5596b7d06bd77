"""Ed25519 key pairs (sign) and public keys (verify only), backed by libsodium through pynacl."""

from __future__ import annotations

import os
from collections.abc import Callable

from nscpy.keys import _sodium
from nscpy.keys.codec import decode_public, decode_seed, encode, encode_seed
from nscpy.keys.errors import InvalidKeyOperation, InvalidPrefix, InvalidSeed, InvalidSignature
from nscpy.keys.prefix import PUBLIC_PREFIXES, Prefix

__all__ = ["KeyPair", "PublicKey", "Rng", "create_pair"]

Rng = Callable[[int], bytes]
"""A randomness source: takes a byte count, returns that many random bytes (os.urandom)."""

SIGNATURE_LENGTH = 64
_RAW_SEED_LENGTH = 32


def _verify(raw_public: bytes, data: bytes, signature: bytes) -> None:
    if len(signature) != SIGNATURE_LENGTH:
        raise InvalidSignature(f"signature must be {SIGNATURE_LENGTH} bytes, got {len(signature)}")
    if not _sodium.verify(raw_public, data, signature):
        raise InvalidSignature("signature verification failed")


class PublicKey:
    """A public NKey: it can verify signatures and nothing else."""

    __slots__ = ("_text", "_prefix", "_raw")

    def __init__(self, text: str) -> None:
        self._prefix, self._raw = decode_public(text)
        self._text = text

    @property
    def public_key(self) -> str:
        """The public key string (O..., A..., U..., N..., C..., X...)."""
        return self._text

    @property
    def prefix(self) -> Prefix:
        """The key's role."""
        return self._prefix

    @property
    def raw(self) -> bytes:
        """The 32 raw key bytes."""
        return self._raw

    def verify(self, data: bytes, signature: bytes) -> None:
        """Raise InvalidSignature unless signature is this key's Ed25519 signature of data."""
        if self._prefix is Prefix.CURVE:
            raise InvalidKeyOperation("a curve (x25519) key cannot verify signatures")
        _verify(self._raw, data, signature)

    def is_valid_signature(self, data: bytes, signature: bytes) -> bool:
        """True when signature verifies; never raises for a bad signature."""
        try:
            self.verify(data, signature)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublicKey) and other._text == self._text

    def __hash__(self) -> int:
        return hash(self._text)

    def __repr__(self) -> str:
        return f"PublicKey({self._prefix.role}, {self._text})"


class KeyPair:
    """An Ed25519 NKey built from a seed: it signs and verifies. repr() never shows the seed."""

    __slots__ = ("_prefix", "_raw_seed", "_secret", "_raw_public", "_public_text")

    def __init__(self, prefix: Prefix, raw_seed: bytes) -> None:
        if prefix not in PUBLIC_PREFIXES or prefix is Prefix.CURVE:
            raise InvalidPrefix(f"an Ed25519 key pair cannot have role {prefix.role}")
        # the seed string is only built on demand (it costs a base32 encoding per new key)
        raw_seed = bytes(raw_seed)
        if len(raw_seed) != _RAW_SEED_LENGTH:
            raise InvalidSeed(f"raw seed must be {_RAW_SEED_LENGTH} bytes, got {len(raw_seed)}")
        self._prefix = prefix
        self._raw_seed = raw_seed
        self._raw_public, self._secret = _sodium.seed_keypair(raw_seed)
        self._public_text: str | None = None

    @classmethod
    def from_seed(cls, seed: str) -> KeyPair:
        """Load an Ed25519 key pair from its 'S' seed string (SO.., SA.., SU.., SN.., SC..)."""
        prefix, raw = decode_seed(seed)
        if prefix is Prefix.CURVE:
            raise InvalidKeyOperation("a curve seed (SX...) makes a CurveKeyPair, not a KeyPair")
        return cls(prefix, raw)

    @property
    def prefix(self) -> Prefix:
        """The key's role."""
        return self._prefix

    @property
    def seed(self) -> str:
        """The seed string: the secret. Print it only when a user asked for it."""
        return encode_seed(self._prefix, self._raw_seed)

    @property
    def raw_seed(self) -> bytes:
        """The 32-byte RFC 8032 secret seed."""
        return self._raw_seed

    @property
    def public_key(self) -> str:
        """The public key string."""
        if self._public_text is None:
            self._public_text = encode(self._prefix, self._raw_public)
        return self._public_text

    @property
    def raw_public(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return self._raw_public

    @property
    def private_key(self) -> str:
        """The 'P' private key string (seed || public), as Go's kp.PrivateKey()."""
        return encode(Prefix.PRIVATE, self._secret)

    def public(self) -> PublicKey:
        """The verify-only half of this pair."""
        return PublicKey(self.public_key)

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of data."""
        return _sodium.sign(data, self._secret)

    def verify(self, data: bytes, signature: bytes) -> None:
        """Raise InvalidSignature unless signature is this key's signature of data."""
        _verify(self._raw_public, data, signature)

    def __repr__(self) -> str:
        return f"KeyPair({self._prefix.role}, {self.public_key})"


def create_pair(prefix: Prefix, rng: Rng = os.urandom) -> KeyPair:
    """A new Ed25519 key pair of the given role from 32 bytes of rng."""
    return KeyPair(prefix, rng(32))
