"""The undo journal: any sequence of writes, creates and removals is undone exactly, from memory
after an exception and from the on-disk log after a crash."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nscpy.store import atomic, journal
from nscpy.store.errors import StoreError
from tests.commands.cliutil import fingerprint

NAMES = ["a.jwt", "b.jwt", "sub/c.nk", "sub/deeper/d.creds"]
ops = st.lists(
    st.tuples(
        st.sampled_from(["write", "create", "remove"]),
        st.sampled_from(NAMES),
        st.binary(max_size=40),
    ),
    max_size=12,
)


def _seed(root: Path, present: list[bool]) -> None:
    for name, there in zip(NAMES, present, strict=True):
        if there:
            atomic.atomic_write(root / name, f"old {name}")


def _apply(root: Path, steps: list[tuple[str, str, bytes]]) -> None:
    for op, name, data in steps:
        path = root / name
        if op == "write":
            atomic.atomic_write(path, data)
        elif op == "create":
            atomic.atomic_create(path, data)
        else:
            journal.note_write(path)
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass


@settings(max_examples=30, deadline=None)
@given(present=st.lists(st.booleans(), min_size=4, max_size=4), steps=ops)
def test_rollback_restores_every_file(present: list[bool], steps: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        root.mkdir(mode=0o700)
        _seed(root, present)
        before = fingerprint(root)
        log = journal.Journal(Path(tmp) / "journal")
        with journal.activated(log):
            _apply(root, steps)
        assert log.rollback() == []
        assert fingerprint(root) == before
        assert not (Path(tmp) / "journal").exists()


@settings(max_examples=30, deadline=None)
@given(
    present=st.lists(st.booleans(), min_size=4, max_size=4),
    steps=ops,
    torn=st.binary(max_size=30).filter(lambda b: b"\n" not in b),
)
def test_recovery_from_the_log_restores_every_file(
    present: list[bool], steps: list, torn: bytes
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "store"
        root.mkdir(mode=0o700)
        _seed(root, present)
        before = fingerprint(root)
        log_path = Path(tmp) / "journal"
        log = journal.Journal(log_path)
        with journal.activated(log):
            _apply(root, steps)
        log._close_log()  # the process "dies": nothing in memory survives, the log does
        if log_path.exists():
            with open(log_path, "ab") as f:
                f.write(torn)  # a record cut short by the crash
        assert journal.recover(log_path) in ([], None)
        assert fingerprint(root) == before
        assert not log_path.exists()


def test_no_journal_no_records(tmp_path: Path) -> None:
    atomic.atomic_write(tmp_path / "x", "data")  # outside a transaction nothing is recorded
    assert journal.active() is None
    assert journal.recover(tmp_path / "missing") is None


class _Racer(journal.Journal):
    """A journal during whose record() another writer creates the file (the race, made
    deterministic): the create that follows finds the name taken."""

    def __init__(self, log: Path, contested: Path) -> None:
        super().__init__(log)
        self.contested = contested

    def record(self, path: Path) -> bool:
        recorded = super().record(path)
        if path == self.contested:
            path.write_bytes(b"theirs")
        return recorded


def test_a_create_that_lost_the_name_is_not_undone(tmp_path: Path) -> None:
    # the other writer's file must survive the rollback, from memory and from the log
    taken = tmp_path / "taken.jwt"
    for from_log in (False, True):
        taken.unlink(missing_ok=True)
        log = _Racer(tmp_path / "journal", taken)
        with journal.activated(log):
            assert atomic.atomic_create(taken, b"ours") is False
            atomic.atomic_create(tmp_path / "new.jwt", b"ours")
        if from_log:
            log._close_log()  # as a killed process leaves it
            assert journal.recover(tmp_path / "journal") == []
        else:
            assert log.rollback() == []
        assert taken.read_bytes() == b"theirs"
        assert not (tmp_path / "new.jwt").exists()


def test_all_or_nothing_removes_new_seeds_and_keeps_old_ones(tmp_path: Path) -> None:
    from nscpy import keys
    from nscpy.store import KeyStore, resolve_paths

    ks = KeyStore(resolve_paths({}, tmp_path / "home", all_dirs=str(tmp_path / "nsc")))
    old = keys.create_pair(keys.Prefix.ACCOUNT)
    ks.put(old)
    before = fingerprint(tmp_path / "nsc")
    new = keys.create_pair(keys.Prefix.ACCOUNT)
    try:
        with journal.all_or_nothing():
            ks.put(old)  # already there: nothing written, nothing to undo
            ks.put(new)
            raise RuntimeError("the JWT write failed")
    except RuntimeError as exc:
        assert str(exc) == "the JWT write failed"  # the cause, unchanged
    assert not ks.has(new.public_key)
    assert ks.get(old.public_key) == old.seed
    assert fingerprint(tmp_path / "nsc") == before  # and the new shard directory is gone


def test_all_or_nothing_joins_an_active_transaction(tmp_path: Path) -> None:
    outer = journal.Journal()
    with journal.activated(outer):
        try:
            with journal.all_or_nothing():
                atomic.atomic_create(tmp_path / "a.jwt", b"a")
                raise RuntimeError("inner")
        except RuntimeError:
            pass
        assert (tmp_path / "a.jwt").exists()  # the transaction decides, not the inner block
    assert outer.rollback() == []
    assert not (tmp_path / "a.jwt").exists()


def test_all_or_nothing_names_what_it_could_not_undo(tmp_path: Path) -> None:
    made = tmp_path / "d" / "a.jwt"
    try:
        with journal.all_or_nothing():
            atomic.atomic_write(made, b"new")
            made.unlink()
            made.mkdir()  # rolling back cannot unlink a directory
            raise RuntimeError("cause")
    except StoreError as exc:
        text = str(exc)
    assert text.startswith("cause; undoing the writes made before it failed too: ")
    assert str(made) in text and "\n" not in text


def test_an_operator_another_writer_made_first_survives_the_rollback(tmp_path: Path) -> None:
    # the other writer's operator appears between note_move and the rename: the rename fails,
    # and rolling back the failed add must leave their JWT and accounts/ alone
    from nscpy.store import DataStore, resolve_paths
    from nscpy.store.errors import AlreadyExists

    paths = resolve_paths({}, tmp_path / "home", all_dirs=str(tmp_path / "nsc"))
    final = paths.operator_dir("op")

    class Racer(journal.Journal):
        def record(self, path: Path) -> bool:
            recorded = super().record(path)
            if path == final / "op.jwt" and not final.exists():
                (final / "accounts").mkdir(parents=True)
                path.write_text("their jwt")
            return recorded

    log = Racer(tmp_path / "journal")
    with journal.activated(log):
        try:
            DataStore(paths).create_operator("op", "our jwt")
        except AlreadyExists:
            pass
    before = fingerprint(final)
    assert log.rollback() == []
    assert fingerprint(final) == before and (final / "op.jwt").read_text() == "their jwt"
    assert (final / "accounts").is_dir()
