"""A publish's record (segment.msg_record_parts) is byte for byte the general record of its
MSG; ChaChaSealer's direct libsodium calls seal as pynacl's binding does, one block or many
at once (Sealer.seal_all, as write-behind seals what it holds)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from nacl import bindings

from server_stub.jetstream.crypto import ChaChaSealer, OpenFailed, PlainSealer
from server_stub.jetstream.memstore import StoredMsg
from server_stub.jetstream.segment import (
    HEADER_SIZE,
    KIND_MSG,
    decode_msg,
    encode_msg,
    encode_record,
    msg_record_parts,
    parse_record,
    record_parts,
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
        parts = msg_record_parts(sealer, msg, segment, offset)
        assert parts == record_parts(sealer, KIND_MSG, encode_msg(msg), segment, offset)
        record = sealer.seal_all((parts,))
        assert record == encode_record(sealer, KIND_MSG, encode_msg(msg), segment, offset)
        assert len(record) == HEADER_SIZE + len(parts[1]) + sealer.overhead
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


blocks = st.lists(
    st.tuples(st.binary(max_size=16), st.binary(max_size=3000), st.binary(max_size=40)),
    max_size=40,
)


@settings(max_examples=100, deadline=None)
@given(first=blocks, second=blocks, key=st.binary(min_size=32, max_size=32))
@example(first=[(b"h" * 12, b"x" * 3000, b"a")] * 30, second=[(b"", b"y", b"")], key=b"k" * 32)
def test_sealing_many_blocks_at_once_is_sealing_each(first, second, key) -> None:
    """seal_all reuses one buffer from call to call (and grows it past 64 KiB): each call
    still gives exactly the blocks sealed one by one, with the nonces in the order drawn."""
    counter = itertools.count()
    sealer = ChaChaSealer(key, rng=lambda size: next(counter).to_bytes(size, "big"))
    expected = itertools.count()
    for batch in (first, second, first):
        want = b""
        for prefix, plain, aad in batch:
            nonce = next(expected).to_bytes(24, "big")
            sealed = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, aad, nonce, key)
            want += prefix + nonce + sealed
        assert sealer.seal_all(batch) == want
    plain = PlainSealer()
    assert plain.seal_all(first) == b"".join(p + plain.seal(x, a) for p, x, a in first)


def test_a_batch_draws_a_fresh_nonce_for_every_block() -> None:
    sealer = ChaChaSealer(b"k" * 32)  # the real nonces: drawn 256 at a time
    for count in (1, 300, 255, 2):  # across draws, and a batch larger than one draw
        sealed = sealer.seal_all([(b"", b"x", b"a")] * count)
        step = 24 + 1 + 16
        nonces = {sealed[i : i + 24] for i in range(0, len(sealed), step)}
        assert len(nonces) == count
        assert all(sealer.open(sealed[i : i + step], b"a") == b"x" for i in (0, len(sealed) - step))
