"""The NKey string codec: prefix byte(s) + payload + CRC-16/XMODEM (LE), in unpadded base32.

Decoding is strict on purpose: only the canonical text that Go's nkeys emits is accepted (upper-case
alphabet, exact length, no whitespace, zero spare bits, exact prefix byte, 32-byte payload). Go is
more lenient (it skips CR/LF and ignores spare bits) but never *produces* such strings, so every key
Go writes still decodes here.
"""

from __future__ import annotations

import binascii
import functools

from nscpy.keys.base32 import b32decode, b32encode
from nscpy.keys.errors import (
    InvalidChecksum,
    InvalidEncoding,
    InvalidPrefix,
    InvalidPublicKey,
    InvalidSeed,
    NKeyError,
)
from nscpy.keys.prefix import PUBLIC_PREFIXES, Prefix

__all__ = [
    "crc16",
    "encode",
    "decode",
    "decode_public",
    "encode_seed",
    "decode_seed",
    "is_valid_public_key",
    "public_prefix",
    "PUBLIC_KEY_LENGTH",
    "SEED_LENGTH",
]

PUBLIC_KEY_LENGTH = 56
SEED_LENGTH = 58
_RAW_LEN = 32
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
_PREFIX_BY_BYTE = {p.value: p for p in Prefix}
_PUBLIC_LETTERS = frozenset(p.letter for p in PUBLIC_PREFIXES)


def _whitespace_hint(text: str) -> str:
    # Go silently skips CR/LF inside keys; we refuse them, so say why a pasted key is "too long"
    return " (remove the surrounding whitespace)" if text != text.strip() else ""


def crc16(data: bytes) -> int:
    """CRC-16/XMODEM (poly 0x1021, init 0, no reflection); binascii implements exactly this."""
    return binascii.crc_hqx(data, 0)


def _with_crc(body: bytes) -> bytes:
    return body + crc16(body).to_bytes(2, "little")


def encode(prefix: Prefix, raw: bytes) -> str:
    """Encode a public key (or a private key with Prefix.PRIVATE) of the given role."""
    if prefix is Prefix.SEED:
        raise InvalidPrefix("use encode_seed() for seeds")
    if prefix not in PUBLIC_PREFIXES and prefix is not Prefix.PRIVATE:
        raise InvalidPrefix(f"{prefix!r} is not a key role")
    # a string of any other length would never decode again, so refuse to make one
    if prefix is Prefix.PRIVATE:
        if len(raw) not in (_RAW_LEN, 2 * _RAW_LEN):
            raise InvalidEncoding(f"private key must be 32 or 64 bytes, got {len(raw)}")
    elif len(raw) != _RAW_LEN:
        raise InvalidPublicKey(f"{prefix.role} public key must be {_RAW_LEN} bytes, got {len(raw)}")
    return b32encode(_with_crc(bytes((prefix.value,)) + raw))


def encode_seed(prefix: Prefix, raw: bytes) -> str:
    """Encode a 32-byte raw seed for a public role as an 'S' seed string."""
    if prefix not in PUBLIC_PREFIXES:
        raise InvalidPrefix(f"a seed must be for a public role, not {prefix.role}")
    if len(raw) != _RAW_LEN:
        raise InvalidSeed(f"raw seed must be {_RAW_LEN} bytes, got {len(raw)}")
    b1 = Prefix.SEED.value | (prefix.value >> 5)
    b2 = (prefix.value & 0x1F) << 3
    return b32encode(_with_crc(bytes((b1, b2)) + raw))


def _b32_decode(text: str, what: str) -> bytes:
    """Decode canonical unpadded base32; the caller has checked the length."""
    raw = b32decode(text)
    if raw is not None:
        return raw
    if not _ALPHABET.issuperset(text):
        bad = next(c for c in text if c not in _ALPHABET)
        raise InvalidEncoding(f"{what} has a character outside upper-case base32: {bad!r}")
    # non-zero spare bits in the last character: decodes to the same bytes as another string
    raise InvalidEncoding(f"{what} is not canonical base32 (spare bits set in last character)")


def _check_crc(raw: bytes, what: str) -> None:
    if crc16(raw[:-2]) != int.from_bytes(raw[-2:], "little"):
        raise InvalidChecksum(f"{what} has an invalid checksum")


def decode(expected: Prefix, text: str) -> bytes:
    """Decode a public or private key string of the expected role; returns the raw payload."""
    if expected is Prefix.PRIVATE:
        if not isinstance(text, str) or len(text) not in (56, 108):
            raise InvalidEncoding("private key must be 56 or 108 characters")
        raw = _b32_decode(text, "private key")
        _check_crc(raw, "private key")
        if raw[0] != Prefix.PRIVATE.value:
            raise InvalidPrefix("private key must start with 'P'")
        return raw[1:-2]
    prefix, payload = decode_public(text)
    if prefix is not expected:
        raise InvalidPrefix(
            f"expected {expected.role} key ({expected.letter}...), got {prefix.role}"
        )
    return payload


def decode_public(text: str) -> tuple[Prefix, bytes]:
    """Decode any public key string; returns its role and 32-byte key."""
    if not isinstance(text, str):
        raise InvalidPublicKey(f"public key must be a string, got {type(text).__name__}")
    return _decode_public(text)


# Verifying a token decodes its issuer's key; the same few issuers recur, so decoding is cached.
@functools.lru_cache(maxsize=4096)
def _decode_public(text: str) -> tuple[Prefix, bytes]:
    if len(text) != PUBLIC_KEY_LENGTH:
        if text[:1] == "S" and len(text) == SEED_LENGTH:
            raise InvalidPublicKey("expected a public key, got what looks like a seed")
        raise InvalidPublicKey(
            f"public key must be {PUBLIC_KEY_LENGTH} characters, got {len(text)}"
            + _whitespace_hint(text)
        )
    raw = _b32_decode(text, "public key")
    _check_crc(raw, "public key")
    prefix = _PREFIX_BY_BYTE.get(raw[0])
    if prefix is None or prefix not in PUBLIC_PREFIXES:
        raise InvalidPublicKey(f"public key has an invalid role prefix {text[0]!r}")
    return prefix, raw[1:-2]


def decode_seed(text: str) -> tuple[Prefix, bytes]:
    """Decode a seed string; returns its role and the 32-byte raw seed."""
    if not isinstance(text, str):
        raise InvalidSeed(f"seed must be a string, got {type(text).__name__}")
    if len(text) != SEED_LENGTH:
        if len(text) == PUBLIC_KEY_LENGTH and text[:1] in _PUBLIC_LETTERS:
            raise InvalidSeed("expected a seed (S...), got what looks like a public key")
        raise InvalidSeed(
            f"seed must be {SEED_LENGTH} characters, got {len(text)}" + _whitespace_hint(text)
        )
    raw = _b32_decode(text, "seed")
    _check_crc(raw, "seed")
    b1, b2 = raw[0], raw[1]
    if b1 & 0xF8 != Prefix.SEED.value or b2 & 0x07:
        raise InvalidSeed("seed must start with 'S' followed by a role letter")
    prefix = _PREFIX_BY_BYTE.get(((b1 & 0x07) << 5) | ((b2 & 0xF8) >> 3))
    if prefix is None or prefix not in PUBLIC_PREFIXES:
        raise InvalidSeed(f"seed has an invalid role letter {text[1]!r}")
    return prefix, raw[2:-2]


def is_valid_public_key(text: object, prefix: Prefix | None = None) -> bool:
    """True when text is a canonical public key (of the given role, when one is given)."""
    if not isinstance(text, str):
        return False
    try:
        role, _ = decode_public(text)
    except NKeyError:
        return False
    return prefix is None or role is prefix


def public_prefix(text: str) -> Prefix:
    """The role of a valid public key string; raises InvalidPublicKey otherwise."""
    return decode_public(text)[0]
