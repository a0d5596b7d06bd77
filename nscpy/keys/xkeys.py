"""Curve (X25519) NKeys and the xkv1 sealed-box format that Go's nkeys Seal/Open use.

xkv1 layout: b"xkv1" || 24-byte nonce || crypto_box(tag || ciphertext). It is NaCl's box
(X25519 + XSalsa20-Poly1305), so pynacl's Box produces the same bytes as Go's nacl/box.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from nscpy.keys.codec import decode, decode_seed, encode, encode_seed
from nscpy.keys.errors import (
    CouldNotDecrypt,
    InvalidEncrypted,
    InvalidEncVersion,
    InvalidKeyOperation,
    InvalidPublicKey,
)
from nscpy.keys.keypair import Rng
from nscpy.keys.prefix import Prefix

if TYPE_CHECKING:
    import nacl.public

__all__ = ["CurveKeyPair", "create_curve_pair", "XKEY_VERSION"]

XKEY_VERSION = b"xkv1"
_NONCE_LEN = 24
_HEADER_LEN = len(XKEY_VERSION) + _NONCE_LEN


# nacl.public is imported where it is used: it loads all of nacl.bindings (10-20 ms), which
# commands that never touch curve keys should not pay for.


def _curve_public(text: str) -> nacl.public.PublicKey:
    import nacl.public

    try:
        raw = decode(Prefix.CURVE, text)
    except ValueError as exc:
        raise InvalidPublicKey(f"not a curve (X...) public key: {exc}") from None
    return nacl.public.PublicKey(raw)


class CurveKeyPair:
    """An X25519 key pair (seed 'SX...', public 'X...') that seals and opens; it cannot sign."""

    __slots__ = ("_raw_seed", "_private")

    def __init__(self, raw_seed: bytes) -> None:
        import nacl.public

        encode_seed(Prefix.CURVE, raw_seed)  # validates the length
        self._raw_seed = bytes(raw_seed)
        self._private = nacl.public.PrivateKey(self._raw_seed)

    @classmethod
    def from_seed(cls, seed: str) -> CurveKeyPair:
        """Load a curve key pair from its 'SX' seed string."""
        prefix, raw = decode_seed(seed)
        if prefix is not Prefix.CURVE:
            raise InvalidKeyOperation(f"expected a curve seed (SX...), got a {prefix.role} seed")
        return cls(raw)

    @property
    def prefix(self) -> Prefix:
        """Always Prefix.CURVE."""
        return Prefix.CURVE

    @property
    def seed(self) -> str:
        """The seed string: the secret."""
        return encode_seed(Prefix.CURVE, self._raw_seed)

    @property
    def public_key(self) -> str:
        """The 'X' public key string."""
        return encode(Prefix.CURVE, bytes(self._private.public_key))

    @property
    def private_key(self) -> str:
        """The 'P' private key string (the raw 32-byte secret)."""
        return encode(Prefix.PRIVATE, self._raw_seed)

    def seal(self, message: bytes, recipient: str, rng: Rng = os.urandom) -> bytes:
        """Encrypt message to recipient's 'X' public key, authenticated as this key."""
        import nacl.public

        box = nacl.public.Box(self._private, _curve_public(recipient))
        nonce = rng(_NONCE_LEN)
        return XKEY_VERSION + bytes(box.encrypt(message, nonce))

    def open(self, sealed: bytes, sender: str) -> bytes:
        """Decrypt a message sealed to this key by sender's 'X' public key."""
        if len(sealed) <= _HEADER_LEN:
            raise InvalidEncrypted(f"sealed message must be over {_HEADER_LEN} bytes")
        if sealed[: len(XKEY_VERSION)] != XKEY_VERSION:
            raise InvalidEncVersion("sealed message does not start with the xkv1 marker")
        import nacl.exceptions
        import nacl.public

        sender_key = _curve_public(sender)
        box = nacl.public.Box(self._private, sender_key)
        nonce = sealed[len(XKEY_VERSION) : _HEADER_LEN]
        try:
            return box.decrypt(sealed[_HEADER_LEN:], nonce)
        except nacl.exceptions.CryptoError:
            raise CouldNotDecrypt("could not decrypt: wrong key or tampered message") from None

    def sign(self, data: bytes) -> bytes:
        """Curve keys cannot sign; always raises InvalidKeyOperation."""
        raise InvalidKeyOperation("a curve (x25519) key cannot sign")

    def __repr__(self) -> str:
        return f"CurveKeyPair(x25519, {self.public_key})"


def create_curve_pair(rng: Rng = os.urandom) -> CurveKeyPair:
    """A new curve key pair from 32 bytes of rng."""
    return CurveKeyPair(rng(32))
