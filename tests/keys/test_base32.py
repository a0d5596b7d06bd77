"""nscpy.keys.base32 agrees with the stdlib's base64 module on every input, canonical or not."""

from __future__ import annotations

import base64
import binascii

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nscpy.keys.base32 import ALPHABET, b32decode, b32encode

FAST = settings(max_examples=300, deadline=None)
# the alphabet, plus what int(text, 32) or a sloppy decoder would accept
text_chars = st.one_of(
    st.sampled_from(ALPHABET), st.sampled_from("abv0189=_+- \t\n"), st.characters()
)


def _stdlib_canonical(text: str) -> bytes | None:
    """What strict decoding must return: stdlib bytes, only if they re-encode to text."""
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b32encode(raw).decode("ascii").rstrip("=") == text else None


@FAST
@given(st.binary(max_size=130))
def test_encode_matches_stdlib_and_round_trips(raw: bytes) -> None:
    text = b32encode(raw)
    assert text == base64.b32encode(raw).decode("ascii").rstrip("=")
    assert b32decode(text) == raw


@FAST
@given(st.text(text_chars, max_size=60))
def test_decode_accepts_exactly_the_canonical_strings(text: str) -> None:
    assert b32decode(text) == _stdlib_canonical(text)


@FAST
@given(st.binary(min_size=35, max_size=36), st.data())
def test_one_changed_character_never_decodes_to_the_same_bytes(
    raw: bytes, data: st.DataObject
) -> None:
    text = b32encode(raw)
    i = data.draw(st.integers(0, len(text) - 1))
    ch = data.draw(text_chars.filter(lambda c: c != text[i]))
    assert b32decode(text[:i] + ch + text[i + 1 :]) != raw


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("+AAAAAAA", "sign"),
        ("AAAA_AAA", "underscore"),
        (" AAAAAAA", "blank"),
        ("aaaaaaaa", "lower case"),
        ("AAAAAA", "impossible length"),
        ("A", "impossible length"),
        ("AB", "spare bits set"),
        ("AAAAAAAÉ", "non-ASCII"),
    ],
)
def test_decode_refuses(text: str, why: str) -> None:
    assert b32decode(text) is None, why


def test_lengths_used_by_nkeys_and_jti() -> None:
    for size, chars in ((32, 52), (35, 56), (36, 58), (67, 108)):
        raw = bytes(range(size))
        assert len(b32encode(raw)) == chars
        assert b32decode(b32encode(raw)) == raw
    assert b32decode("") == b""
