"""A publish's record (segment.encode_msg_record) is byte for byte the general record of its MSG;
ChaChaSealer's direct libsodium call seals as pynacl's binding does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl import bindings

from server_stub.jetstream.crypto import ChaChaSealer, OpenFailed, PlainSealer
from server_stub.jetstream.memstore import StoredMsg
from server_stub.jetstream.segment import (
    KIND_MSG,
    decode_msg,
    encode_msg,
    encode_msg_record,
    encode_record,
    parse_record,
)

msgs = st.builds(
    StoredMsg,
    seq=st.integers(1, 2**64 - 1),
    subject=st.text(min_size=1, max_size=40),
    hdrs=st.sampled_from([b"", b"NATS/1.0\r\nNats-Msg-Id: 1\r\n\r\n"]),
    data=st.binary(max_size=300),
    ts=st.integers(0, 2**63 - 1),
)


def _fixed_nonce(size: int) -> bytes:
    return b"\x07" * size


@settings(max_examples=300, deadline=None)
@given(msg=msgs, segment=st.integers(1, 2**32 - 1), offset=st.integers(0, 4096))
def test_a_publish_record_is_the_general_msg_record(msg, segment, offset) -> None:
    for sealer in (PlainSealer(), ChaChaSealer(b"k" * 32, rng=_fixed_nonce)):
        record = encode_msg_record(sealer, msg, segment, offset)
        assert record == encode_record(sealer, KIND_MSG, encode_msg(msg), segment, offset)
        data = bytes(offset) + record  # read back where it was written
        kind, plain, end = parse_record(sealer, data, offset, segment) or (0, b"", 0)
        assert (kind, end) == (KIND_MSG, len(data)) and decode_msg(plain) == msg
        # written elsewhere it does not authenticate: the place is sealed in
        assert parse_record(sealer, data, offset, segment ^ 1) is None


@settings(max_examples=200, deadline=None)
@given(
    key=st.binary(min_size=32, max_size=32),
    nonce=st.binary(min_size=24, max_size=24),
    plain=st.binary(max_size=600),
    aad=st.binary(max_size=40),
)
def test_chachapoly_seals_as_pynacls_binding_and_opens(key, nonce, plain, aad) -> None:
    """ChaChaSealer calls libsodium directly: byte for byte what pynacl's binding returns."""
    sealer = ChaChaSealer(key, rng=lambda size: nonce)
    sealed = sealer.seal(plain, aad)
    assert sealed == nonce + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
        plain, aad, nonce, key
    )
    assert sealer.open(sealed, aad) == plain
    with pytest.raises(OpenFailed):
        sealer.open(sealed, aad + b"x")  # the aad is bound in


def test_chachapoly_refuses_a_wrong_key_or_nonce_length() -> None:
    with pytest.raises(ValueError):
        ChaChaSealer(b"k" * 31)
    with pytest.raises(TypeError):  # the binding's refusal, never a read past the nonce
        ChaChaSealer(b"k" * 32, rng=lambda size: b"n" * 23).seal(b"data", b"aad")
