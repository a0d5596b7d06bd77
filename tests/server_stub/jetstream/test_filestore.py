"""The encrypted file store: nothing in clear on disk, restart, wrong key, tampering, torn tails."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server_stub.jetstream import JsConfigError, StoreCorrupted, WrongKey
from server_stub.jetstream.crypto import make_sealer, master_key
from server_stub.jetstream.filestore import FileStore
from server_stub.jetstream.memstore import MemStore
from server_stub.jetstream.sealedfile import check_key
from server_stub.jetstream.segment import KIND_STATE, parse_record
from tests.support.jslosses import lost_in_log, unaccounted

LABEL = "'$G > ORDERS'"
SUBJECT = "orders.secret-subject-7f3a"
HEADER = b"NATS/1.0\r\nX-Secret-Header: hdr-value-91c2\r\n\r\n"
PAYLOAD = b"payload-plaintext-c0ffee-0123456789"
NEEDLES = (SUBJECT.encode(), b"X-Secret-Header", b"hdr-value-91c2", PAYLOAD, b"c0ffee")


def sealer(cipher: str | None, key: bytes = b"k1"):
    return make_sealer(cipher, master_key(key) if cipher else None, "$G", "ORDERS", "stream")


def open_store(
    directory: Path,
    cipher: str | None,
    key: bytes = b"k1",
    block_size: int = 1 << 20,
    write_behind: bool = False,
):
    seal = sealer(cipher, key)
    check_key(directory, seal, "stream ORDERS")
    return FileStore(directory, seal, block_size=block_size, label=LABEL, write_behind=write_behind)


def fill(store: FileStore, count: int = 20) -> None:
    for i in range(count):
        store.append(SUBJECT, HEADER, PAYLOAD + str(i).encode(), 1_000 + i)
    store.sync()


def all_bytes(directory: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in directory.rglob("*") if p.is_file()]


@pytest.mark.parametrize("cipher", ["chachapoly", "aes"])
def test_no_plaintext_on_disk_with_a_cipher(tmp_path: Path, cipher: str) -> None:
    store = open_store(tmp_path, cipher, block_size=512)  # several segments
    fill(store)
    store.close()
    files = all_bytes(tmp_path)
    assert len([p for p, _ in files if p.suffix == ".blk"]) > 2
    for path, data in files:
        for needle in NEEDLES:
            assert needle not in data, f"{needle!r} found in {path}"


def test_control_plaintext_visible_without_cipher(tmp_path: Path) -> None:
    store = open_store(tmp_path, None)
    fill(store)
    store.close()
    blob = b"".join(data for _, data in all_bytes(tmp_path))
    for needle in NEEDLES:
        assert needle in blob


@pytest.mark.parametrize("cipher", [None, "chachapoly", "aes"])
def test_restart_with_same_key_returns_everything(tmp_path: Path, cipher: str | None) -> None:
    store = open_store(tmp_path, cipher, block_size=700)
    fill(store, 30)
    store.remove(5)  # interior delete
    store.remove_below(3)  # floor
    store.close()
    again = open_store(tmp_path, cipher, block_size=700)
    assert again.first_seq == 3 and again.last_seq == 30 and again.messages == 27
    assert again.get(5) is None
    msg = again.get(17)
    assert msg is not None
    assert (msg.subject, msg.hdrs, msg.data, msg.ts) == (SUBJECT, HEADER, PAYLOAD + b"16", 1016)
    assert again.bytes == sum(again.msg_size(m.subject, m.hdrs, m.data) for m in again.iter_from(0))
    again.close()


def test_wrong_key_is_refused_clearly(tmp_path: Path) -> None:
    store = open_store(tmp_path, "chachapoly", key=b"right")
    fill(store, 3)
    store.close()
    with pytest.raises(WrongKey, match="different jetstream key"):
        open_store(tmp_path, "chachapoly", key=b"wrong")
    with pytest.raises(WrongKey):
        open_store(tmp_path, "aes", key=b"right")
    with pytest.raises(WrongKey):
        open_store(tmp_path, None)


def test_wrong_key_on_a_record_is_never_served(tmp_path: Path, caplog) -> None:
    store = open_store(tmp_path, "chachapoly", key=b"right")
    fill(store, 3)
    store.close()
    before = (tmp_path / "msgs" / "1.blk").read_bytes()
    wrong = FileStore(tmp_path, sealer("chachapoly", b"wrong"), label=LABEL)  # no key check
    assert (wrong.messages, wrong.lost) == (0, [(1, None)])
    assert "lost any messages from seq 1 on" in caplog.text
    wrong.close()
    assert (tmp_path / "msgs" / "1.blk").read_bytes() == before  # recovery deletes nothing


@pytest.mark.parametrize("cipher", [None, "chachapoly"])
def test_flipped_byte_anywhere_in_a_segment_is_detected(tmp_path: Path, cipher, caplog) -> None:
    store = open_store(tmp_path, cipher)
    fill(store, 6)
    store.close()
    segment = tmp_path / "msgs" / "1.blk"
    original = segment.read_bytes()
    expected = {i + 1: PAYLOAD + str(i).encode() for i in range(6)}
    # every byte of the middle records: the damaged record is lost and logged, never served
    for offset in range(len(original) // 3, len(original) // 3 + 120):
        damaged = bytearray(original)
        damaged[offset] ^= 0x01
        segment.write_bytes(bytes(damaged))
        caplog.clear()
        store = open_store(tmp_path, cipher)
        lost = lost_in_log(caplog.text, "ORDERS")
        assert lost and lost == store.lost
        assert unaccounted(expected, functools.partial(_data, store), lost) == []
        assert store.messages >= 5  # one damaged record costs one message
        store.close()
        for extra in (tmp_path / "msgs").glob("*.blk"):  # appends went to a fresh segment
            if extra != segment:
                extra.unlink()
    segment.write_bytes(original)
    assert open_store(tmp_path, cipher).messages == 6


def _data(store: FileStore, seq: int) -> bytes | None:
    msg = store.get(seq)
    return None if msg is None else msg.data


@pytest.mark.parametrize("write_behind", [False, True])
def test_torn_tail_is_kept_and_appends_go_on_in_a_new_segment(
    tmp_path: Path, caplog, write_behind: bool
) -> None:
    store = open_store(tmp_path, "chachapoly")
    fill(store, 5)
    store.close()
    segment = tmp_path / "msgs" / "1.blk"
    good = segment.read_bytes()
    store = open_store(tmp_path, "chachapoly")
    store.append(SUBJECT, b"", b"sixth", 9)
    store.sync()  # then "crash": no close, so no index
    full = segment.read_bytes()
    for cut in (len(good) + 1, len(good) + 11, len(good) + 12, len(full) - 1):
        for extra in (tmp_path / "msgs").glob("*"):
            extra.unlink()
        segment.write_bytes(full[:cut])
        caplog.clear()
        again = open_store(tmp_path, "chachapoly", write_behind=write_behind)
        assert (again.messages, again.last_seq) == (5, 5)
        assert "not a whole record" in caplog.text
        assert lost_in_log(caplog.text, "ORDERS") == [(6, None)]  # unknowable: reported
        assert segment.stat().st_size == cut  # nothing deleted
        again.append(SUBJECT, b"", b"sixth again", 10)  # appends continue in 2.blk
        again.close()
        fresh = (tmp_path / "msgs" / "2.blk").read_bytes()
        first = parse_record(sealer("chachapoly"), fresh, 0, 2)
        assert first is not None and first[0] == KIND_STATE  # the new segment's first record
        caplog.clear()
        reopened = open_store(tmp_path, "chachapoly")
        assert reopened.get(6).data == b"sixth again"  # type: ignore[union-attr]
        assert reopened.lost == []  # the index of the clean close accounts for everything
        reopened.close()


def test_damaged_key_check_file_is_corruption(tmp_path: Path) -> None:
    open_store(tmp_path, "chachapoly").close()
    path = tmp_path / "meta.key"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(StoreCorrupted, match="damaged key check"):
        open_store(tmp_path, "chachapoly")


def test_old_segments_are_removed_and_sequence_survives(tmp_path: Path) -> None:
    store = open_store(tmp_path, "chachapoly", block_size=300)
    fill(store, 12)
    assert len(list((tmp_path / "msgs").glob("*.blk"))) > 3
    store.remove_below(13)  # everything gone
    store.close()
    assert len(list((tmp_path / "msgs").glob("*.blk"))) == 1
    again = open_store(tmp_path, "chachapoly", block_size=300)
    assert (again.messages, again.first_seq, again.last_seq) == (0, 13, 12)
    assert again.append("a", b"", b"x", 1).seq == 13


def test_aes_needs_cryptography_or_is_refused() -> None:
    # cryptography is a dev dependency here, so aes works; the refusal path is a JsConfigError
    seal = sealer("aes")
    assert seal.open(seal.seal(b"x", b"a"), b"a") == b"x"
    with pytest.raises(JsConfigError):
        make_sealer("rot13", b"k" * 32, "a", "s", "p")


def test_nonces_are_fresh(tmp_path: Path) -> None:
    seal = sealer("chachapoly")
    blocks = {seal.seal(b"same", b"aad")[:24] for _ in range(200)}
    assert len(blocks) == 200


ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.binary(max_size=40)),
        st.tuples(st.just("del"), st.integers(1, 40)),
        st.tuples(st.just("floor"), st.integers(1, 40)),
        st.tuples(st.just("reopen"), st.none()),
    ),
    max_size=40,
)


@settings(max_examples=40, deadline=None)
@given(ops)
def test_file_store_matches_memory_model_across_reopens(tmp_path_factory, steps) -> None:
    directory = tmp_path_factory.mktemp("fs")
    store = open_store(directory, "chachapoly", block_size=256)
    model = MemStore()
    for op, arg in steps:
        if op == "add":
            store.append("s.x", b"", arg, 5)
            model.append("s.x", b"", arg, 5)
        elif op == "del":
            assert store.remove(arg) == model.remove(arg)
        elif op == "floor":
            assert store.remove_below(arg) == model.remove_below(arg)
        else:
            store.close()
            store = open_store(directory, "chachapoly", block_size=256)
        assert (store.messages, store.first_seq, store.last_seq) == (
            model.messages,
            model.first_seq,
            model.last_seq,
        )
        assert [m.data for m in store.iter_from(0)] == [m.data for m in model.iter_from(0)]
    store.close()
