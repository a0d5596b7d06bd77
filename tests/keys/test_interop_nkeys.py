"""Interop with the independent PyPI `nkeys` package (0.2.x): same seeds, keys and signatures.

That package returns bytes, knows no curve keys and does not check a seed's CRC, so it is a peer to
compare values with, not a model for validation.
"""

from __future__ import annotations

import nkeys
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nscpy import keys
from nscpy.keys import Prefix

ED_ROLES = sorted(p for p in keys.PUBLIC_PREFIXES if p is not Prefix.CURVE)
INTEROP = settings(max_examples=60, deadline=None)


@INTEROP
@given(
    role=st.sampled_from(ED_ROLES),
    raw=st.binary(min_size=32, max_size=32),
    message=st.binary(max_size=300),
)
def test_seeds_keys_and_signatures_agree(role: Prefix, raw: bytes, message: bytes) -> None:
    ours = keys.KeyPair(role, raw)
    assert nkeys.encode_seed(raw, int(role)) == ours.seed.encode()
    theirs = nkeys.from_seed(ours.seed.encode())
    assert theirs.public_key == ours.public_key.encode()
    assert theirs.private_key == ours.private_key.encode()
    assert nkeys.decode_seed(ours.seed.encode()) == (int(role), raw)

    # Ed25519 is deterministic, so both sign identically, and each verifies the other
    our_signature, their_signature = ours.sign(message), theirs.sign(message)
    assert our_signature == their_signature
    assert theirs.verify(message, our_signature) is True
    ours.public().verify(message, their_signature)
    keys.from_public_key(theirs.public_key.decode()).verify(message, their_signature)


@INTEROP
@given(role=st.sampled_from(ED_ROLES))
def test_keys_they_create_load_here(role: Prefix) -> None:
    ours = keys.create_pair(role)
    theirs = nkeys.from_seed(ours.seed.encode())
    loaded = keys.from_seed(theirs.seed.decode())
    assert loaded.public_key == theirs.public_key.decode()


@INTEROP
@given(data=st.binary(max_size=200))
def test_crc16_agrees(data: bytes) -> None:
    assert keys.crc16(data) == nkeys.crc16(data)


def test_they_accept_a_bad_seed_crc_that_we_reject() -> None:
    seed = keys.create_pair(Prefix.USER).seed
    # change only the CRC (second-to-last character is all CRC bits)
    bad = seed[:-2] + ("B" if seed[-2] != "B" else "C") + seed[-1]
    assert nkeys.decode_seed(bad.encode())[0] == int(Prefix.USER)
    with pytest.raises(keys.InvalidChecksum):
        keys.decode_seed(bad)


def test_they_have_no_curve_keys() -> None:
    curve = keys.create_curve_pair()
    with pytest.raises(nkeys.ErrInvalidPrefixByte):
        nkeys.from_seed(curve.seed.encode())
