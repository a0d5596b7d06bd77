"""A fast public-key role check for the encode hot path (a fresh subject key per token).

base64.b32decode is pure Python before 3.13 and, with the checks around it, costs about 25 us per
key here, a quarter of an Ed25519 signature; nscpy.keys.base32 does the same checks in ~2 us.
"""

from __future__ import annotations

import binascii

from nscpy.keys.base32 import b32decode

__all__ = ["public_key_role_byte"]


def public_key_role_byte(text: str) -> int | None:
    """The prefix byte of a valid 56-character public key (CRC checked), else None."""
    if len(text) != 56:
        return None
    raw = b32decode(text)
    if raw is None:
        return None
    if binascii.crc_hqx(raw[:33], 0) != int.from_bytes(raw[33:], "little"):
        return None
    return raw[0]
