"""Properties: codec round trips for every role, signatures, and hostile input only ever raising
our own errors (or, by a tiny chance, decoding to a genuinely different canonical key)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nscpy import keys
from nscpy.keys import Prefix

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
ROLES = sorted(keys.PUBLIC_PREFIXES)
ED_ROLES = [p for p in ROLES if p is not Prefix.CURVE]

roles = st.sampled_from(ROLES)
ed_roles = st.sampled_from(ED_ROLES)
raw32 = st.binary(min_size=32, max_size=32)
# characters a mutation may introduce: the alphabet, its look-alikes, padding, whitespace, unicode
mutation_chars = st.one_of(
    st.sampled_from(B32),
    st.sampled_from("abcxyz01890=-_ \t\r\n+/"),
    st.characters(),
)


def _pair(role: Prefix, raw: bytes) -> keys.KeyPair | keys.CurveKeyPair:
    return keys.CurveKeyPair(raw) if role is Prefix.CURVE else keys.KeyPair(role, raw)


def _reencode(kind: str, text: str) -> str:
    """Decode text as kind and encode the result again; raises NKeyError for bad input."""
    if kind == "public":
        role, raw = keys.decode_public(text)
        return keys.encode(role, raw)
    if kind == "seed":
        role, raw = keys.decode_seed(text)
        return keys.encode_seed(role, raw)
    return keys.encode(Prefix.PRIVATE, keys.decode(Prefix.PRIVATE, text))


def _canonical_if_accepted(kind: str, text: str) -> None:
    """Text that decodes as kind must be the canonical encoding of what it decodes to."""
    try:
        again = _reencode(kind, text)
    except keys.NKeyError:
        return
    assert again == text


def _loaders(text: str) -> list[Callable[[], object]]:
    """Every public entry point that parses a key string."""
    return [
        lambda: _reencode("public", text),
        lambda: _reencode("seed", text),
        lambda: _reencode("private", text),
        lambda: keys.from_seed(text),
        lambda: keys.KeyPair.from_seed(text),
        lambda: keys.CurveKeyPair.from_seed(text),
        lambda: keys.from_public_key(text),
        lambda: keys.public_prefix(text),
        lambda: keys.decode(Prefix.USER, text),
    ]


def _only_nkey_errors(text: str) -> None:
    """Each loader either raises an NKeyError or accepts text as a canonical key."""
    for load in _loaders(text):
        try:
            load()
        except keys.NKeyError:
            continue
    # is_valid_public_key never raises and agrees with decode_public
    try:
        keys.decode_public(text)
        accepted = True
    except keys.NKeyError:
        accepted = False
    assert keys.is_valid_public_key(text) is accepted


# --- round trips --------------------------------------------------------------------------------


@FAST
@given(role=roles, raw=raw32)
def test_seed_round_trip(role: Prefix, raw: bytes) -> None:
    seed = keys.encode_seed(role, raw)
    assert len(seed) == 58
    assert seed[:3] == "S" + role.letter + "A"
    assert keys.decode_seed(seed) == (role, raw)
    pair = keys.from_seed(seed)
    assert pair.seed == seed
    assert pair.prefix is role


@FAST
@given(role=roles, raw=raw32)
def test_public_round_trip(role: Prefix, raw: bytes) -> None:
    text = keys.encode(role, raw)
    assert len(text) == 56
    assert text[0] == role.letter and text[1] in "ABCD"
    assert keys.decode_public(text) == (role, raw)
    assert keys.decode(role, text) == raw
    assert keys.public_prefix(text) is role
    assert keys.is_valid_public_key(text, role)
    assert keys.from_public_key(text).raw == raw


@FAST
@given(payload=st.one_of(raw32, st.binary(min_size=64, max_size=64)))
def test_private_round_trip(payload: bytes) -> None:
    text = keys.encode(Prefix.PRIVATE, payload)
    assert len(text) == (56 if len(payload) == 32 else 108)
    assert keys.decode(Prefix.PRIVATE, text) == payload


@FAST
@given(role=roles, raw=raw32)
def test_pair_strings_are_consistent(role: Prefix, raw: bytes) -> None:
    pair = _pair(role, raw)
    assert keys.decode_public(pair.public_key)[0] is role
    assert keys.from_seed(pair.seed).public_key == pair.public_key
    assert keys.create(role, rng=lambda n: raw).public_key == pair.public_key


# --- signatures ---------------------------------------------------------------------------------


@FAST
@given(role=ed_roles, raw=raw32, message=st.binary(max_size=512), bit=st.integers(0, 511))
def test_signature_verifies_and_a_flipped_bit_fails(
    role: Prefix, raw: bytes, message: bytes, bit: int
) -> None:
    pair = keys.KeyPair(role, raw)
    signature = pair.sign(message)
    assert len(signature) == 64
    pair.verify(message, signature)
    public = keys.from_public_key(pair.public_key)
    public.verify(message, signature)
    flipped = bytearray(signature)
    flipped[bit // 8] ^= 1 << (bit % 8)
    assert not public.is_valid_signature(message, bytes(flipped))
    if message:
        changed = bytearray(message)
        changed[(bit // 8) % len(message)] ^= 1 << (bit % 8)
        assert not public.is_valid_signature(bytes(changed), signature)


@settings(max_examples=50, deadline=None)
@given(a=raw32, b=raw32, message=st.binary(max_size=256))
def test_seal_open_round_trip(a: bytes, b: bytes, message: bytes) -> None:
    sender, recipient = keys.CurveKeyPair(a), keys.CurveKeyPair(b)
    sealed = sender.seal(message, recipient.public_key)
    assert sealed[:4] == b"xkv1" and len(sealed) == 44 + len(message)
    assert recipient.open(sealed, sender.public_key) == message


# --- hostile input ------------------------------------------------------------------------------


@st.composite
def valid_key_strings(draw: st.DrawFn) -> tuple[str, str]:
    """A canonical (kind, text): a public key, a seed or a private key of a random role."""
    role, raw = draw(roles), draw(raw32)
    pair = _pair(role, raw)
    kind = draw(st.sampled_from(["public", "seed", "private"]))
    text = {"public": pair.public_key, "seed": pair.seed, "private": pair.private_key}[kind]
    return kind, text


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str, str]:
    """(kind, original, mutated): one character replaced, inserted or deleted, or a slice/swap."""
    kind, text = draw(valid_key_strings())
    i = draw(st.integers(0, len(text) - 1))
    how = draw(st.sampled_from(["replace", "insert", "delete", "swap", "truncate", "extend"]))
    if how == "replace":
        new = text[:i] + draw(mutation_chars.filter(lambda c: c != text[i])) + text[i + 1 :]
    elif how == "insert":
        new = text[:i] + draw(mutation_chars) + text[i:]
    elif how == "delete":
        new = text[:i] + text[i + 1 :]
    elif how == "swap":
        j = min(i + 1, len(text) - 1)
        new = text[:i] + text[j] + text[i] + text[j + 1 :] if text[i] != text[j] else text[:-1]
    elif how == "truncate":
        new = text[:i]
    else:
        new = text + draw(st.text(alphabet=B32, min_size=1, max_size=60))
    return kind, text, new


@FAST
@given(case=mutated())
def test_mutated_keys_raise_only_nkey_errors(case: tuple[str, str, str]) -> None:
    kind, original, text = case
    assert text != original
    _only_nkey_errors(text)
    # accepted: then it is a canonical key in its own right, hence a different key
    _canonical_if_accepted(kind, text)


@FAST
@given(text=st.text(max_size=120))
def test_random_text_raises_only_nkey_errors(text: str) -> None:
    _only_nkey_errors(text)


@FAST
@given(text=st.text(alphabet=B32, min_size=54, max_size=110))
def test_random_base32_raises_only_nkey_errors(text: str) -> None:
    _only_nkey_errors(text)


@FAST
@given(body=st.one_of(st.binary(min_size=33, max_size=33), st.binary(min_size=34, max_size=34)))
def test_well_formed_strings_with_any_header_are_accepted_only_when_canonical(body: bytes) -> None:
    # a correct CRC lets the string past base32 and checksum checks, down to the prefix rules
    crc = binascii.crc_hqx(body, 0).to_bytes(2, "little")
    text = base64.b32encode(body + crc).decode().rstrip("=")
    _only_nkey_errors(text)
    _canonical_if_accepted("public" if len(body) == 33 else "seed", text)


@FAST
@given(data=st.one_of(st.binary(max_size=120), st.none(), st.integers()))
def test_non_strings_raise_only_nkey_errors(data: object) -> None:
    _only_nkey_errors(data)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(sealed=st.binary(max_size=120), sender=st.text(max_size=60))
def test_open_garbage_raises_only_nkey_errors(sealed: bytes, sender: str) -> None:
    pair = keys.CurveKeyPair(bytes(32))
    for who in (sender, keys.CurveKeyPair(b"\x01" * 32).public_key):
        for box in (sealed, b"xkv1" + sealed):
            try:
                pair.open(box, who)
            except keys.NKeyError:
                continue
            raise AssertionError("garbage opened")


@FAST
@given(data=st.binary(max_size=100), signature=st.binary(max_size=100))
def test_verify_garbage_raises_only_invalid_signature(data: bytes, signature: bytes) -> None:
    public = keys.KeyPair(Prefix.USER, bytes(32)).public()
    try:
        public.verify(data, signature)
    except keys.InvalidSignature:
        return
    raise AssertionError("garbage signature verified")
