"""The undo journal: any sequence of writes, creates and removals is undone exactly, from memory
after an exception and from the on-disk log after a crash."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nscpy.store import atomic, journal
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
