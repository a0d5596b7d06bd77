"""Unpadded RFC 4648 base32 at C speed, for the fixed-size strings NKeys and jti use.

Python's base64.b32encode/b32decode are pure Python before 3.13 (7-15 us per key here), and
creating one signed user JWT ran them three or four times. Both directions here use whole-number
arithmetic, which CPython does in C:
- decoding maps the alphabet onto int()'s base-32 digits (0-9a-v) with bytes.translate, every
  other byte onto "!" (so int() rejects it: it would otherwise accept signs, "_", blanks and
  lower case), and lets int(digits, 32) assemble the number;
- encoding spreads the number's 5-bit groups into one byte each (six mask-and-shift steps over
  the whole number, halving the chunks each time) and translates those bytes to the alphabet.
Either is ~1-2 us for a 56-character key.
"""

from __future__ import annotations

__all__ = ["ALPHABET", "b32decode", "b32encode"]

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_DIGITS = b"0123456789abcdefghijklmnopqrstuv"
_TO_DIGITS = bytes(
    _DIGITS[ALPHABET.find(chr(b))] if chr(b) in ALPHABET else ord("!") for b in range(256)
)
_TO_ALPHABET = bytes.maketrans(bytes(range(32)), ALPHABET.encode("ascii"))
_GROUPS = 64
"""Characters per spread: 40 input bytes, a whole number of base32 blocks."""
_CHUNK_BYTES = _GROUPS * 5 // 8


def _spread_steps(groups: int) -> tuple[tuple[int, int, int], ...]:
    """(keep-mask, move-mask, shift) per halving step, moving 5-bit groups to 8-bit slots."""
    steps = []
    chunk = groups
    while chunk > 1:
        half = chunk // 2
        keep = 0
        for k in range(groups // chunk):
            keep |= ((1 << (half * 5)) - 1) << (k * chunk * 8)
        steps.append((keep, ~keep, half * 3))
        chunk = half
    return tuple(steps)


_STEPS = _spread_steps(_GROUPS)


def b32encode(raw: bytes) -> str:
    """base32 of raw without '=' padding (as base64.b32encode(raw).rstrip('='))."""
    if len(raw) > _CHUNK_BYTES:
        # 40 bytes are exactly 64 characters, so chunks concatenate
        return b32encode(raw[:_CHUNK_BYTES]) + b32encode(raw[_CHUNK_BYTES:])
    nbits = len(raw) * 8
    number = int.from_bytes(raw, "big") << (_GROUPS * 5 - nbits)
    for keep, move, shift in _STEPS:
        number = (number & keep) | ((number & move) << shift)
    spread = number.to_bytes(_GROUPS, "big")[: (nbits + 4) // 5]
    return spread.translate(_TO_ALPHABET).decode("ascii")


def b32decode(text: str) -> bytes | None:
    """Decode canonical unpadded base32; None unless it is the exact encoding of some bytes.

    Not canonical: a character outside A-Z2-7, a length no byte string encodes to, or non-zero
    spare bits in the last character (two strings would then decode to the same bytes).
    """
    nbytes, spare = divmod(len(text) * 5, 8)
    if spare >= 5:
        return None
    if not text:
        return b""
    try:
        number = int(text.encode("ascii").translate(_TO_DIGITS), 32)
    except (UnicodeEncodeError, ValueError):
        return None
    if number & ((1 << spare) - 1):
        return None
    return (number >> spare).to_bytes(nbytes, "big")
