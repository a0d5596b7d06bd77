"""NKeys: Ed25519 identities (O, A, U, N, C) and X25519 curve keys (X), as Go's nkeys.

Pure: no files, no clock; randomness is a parameter (os.urandom by default).
"""

from __future__ import annotations

import os

from nscpy.keys.codec import (
    crc16,
    decode,
    decode_public,
    decode_seed,
    encode,
    encode_seed,
    is_valid_public_key,
    public_prefix,
)
from nscpy.keys.errors import (
    CouldNotDecrypt,
    InvalidChecksum,
    InvalidEncoding,
    InvalidEncrypted,
    InvalidEncVersion,
    InvalidKeyOperation,
    InvalidPrefix,
    InvalidPublicKey,
    InvalidSeed,
    InvalidSignature,
    NKeyError,
)
from nscpy.keys.keypair import KeyPair, PublicKey, Rng, create_pair
from nscpy.keys.prefix import PUBLIC_PREFIXES, Prefix
from nscpy.keys.xkeys import XKEY_VERSION, CurveKeyPair, create_curve_pair

__all__ = [
    "CouldNotDecrypt",
    "CurveKeyPair",
    "InvalidChecksum",
    "InvalidEncVersion",
    "InvalidEncoding",
    "InvalidEncrypted",
    "InvalidKeyOperation",
    "InvalidPrefix",
    "InvalidPublicKey",
    "InvalidSeed",
    "InvalidSignature",
    "KeyPair",
    "NKeyError",
    "PUBLIC_PREFIXES",
    "Prefix",
    "PublicKey",
    "Rng",
    "XKEY_VERSION",
    "crc16",
    "create",
    "create_curve_pair",
    "create_pair",
    "decode",
    "decode_public",
    "decode_seed",
    "encode",
    "encode_seed",
    "from_public_key",
    "from_seed",
    "is_valid_public_key",
    "public_prefix",
]


def from_seed(seed: str) -> KeyPair | CurveKeyPair:
    """Load any seed string: a curve seed gives a CurveKeyPair, the others a KeyPair."""
    prefix, raw = decode_seed(seed)
    if prefix is Prefix.CURVE:
        return CurveKeyPair(raw)
    return KeyPair(prefix, raw)


def from_public_key(text: str) -> PublicKey:
    """A verify-only key from a public key string."""
    return PublicKey(text)


def create(prefix: Prefix, rng: Rng = os.urandom) -> KeyPair | CurveKeyPair:
    """A new key pair of any public role (curve included)."""
    if prefix is Prefix.CURVE:
        return create_curve_pair(rng)
    return create_pair(prefix, rng)
