"""An undo journal that makes a group of store writes all-or-nothing (nscpy.api transactions).

Theory of operation. While a Journal is active in the current context (a ContextVar, so other
threads and other transactions are unaffected), every store write first records what it is about
to replace: the file's old bytes and mode, or "absent". The write itself still happens at once
(atomically, as always), so the code inside a transaction reads its own changes with no overlay.
If the transaction fails, ``rollback`` puts every recorded path back to its first recorded state
in reverse order, removes the directories the transaction created, and runs the undo callables of
writes that are not files (the OS keyring). Only the first record of a path counts: that is the
state before the transaction touched it.

The caller holds the store lock for the whole transaction, so no nscpy writer that locks (account
edits, operator creation, other transactions) interleaves with it. The journal lives in memory:
it undoes an exception, including KeyboardInterrupt, not a SIGKILL half-way (each file is still
whole, but the group may be partial).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path

__all__ = ["Journal", "active", "note_created", "note_dirs", "note_tree", "note_undo", "note_write"]

_ACTIVE: ContextVar[Journal | None] = ContextVar("nscpy_store_journal", default=None)


class Journal:
    """Before-images of the paths a transaction changed, in the order first touched."""

    def __init__(self) -> None:
        self._before: dict[Path, tuple[bytes | None, int]] = {}
        self._dirs: list[Path] = []
        self._undo: list[Callable[[], object]] = []

    def __len__(self) -> int:
        return len(self._before) + len(self._dirs) + len(self._undo)

    def record(self, path: Path) -> None:
        """Remember path's current content (or its absence) unless already recorded."""
        if path in self._before:
            return
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            self._before[path] = (None, 0)
            return
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(f"journal records files, not directories: {str(path)!r}")
        self._before[path] = (path.read_bytes(), stat.S_IMODE(st.st_mode))

    def record_absent(self, path: Path) -> None:
        """path was just created by a create-if-absent write: rolling back removes it."""
        self._before.setdefault(path, (None, 0))

    def record_dirs(self, dirs: list[Path]) -> None:
        """Directories this transaction created (removed on rollback when left empty)."""
        self._dirs.extend(dirs)

    def record_undo(self, undo: Callable[[], object]) -> None:
        """A callable that reverses a change the journal cannot see as a file."""
        self._undo.append(undo)

    def rollback(self) -> list[str]:
        """Restore every recorded path; returns one line per path that could not be restored."""
        from nscpy.store.atomic import atomic_write

        failures: list[str] = []
        for undo in reversed(self._undo):
            try:
                undo()
            except Exception as exc:  # keep restoring the rest; report what failed
                failures.append(f"undo step failed: {exc}")
        for path, (data, mode) in reversed(list(self._before.items())):
            try:
                if data is None:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(path)
                else:
                    atomic_write(path, data, mode=mode)
            except OSError as exc:
                failures.append(f"cannot restore {str(path)!r}: {exc}")
        for d in reversed(self._dirs):
            # only empty ones: something outside the transaction may have put a file there
            with contextlib.suppress(OSError):
                os.rmdir(d)
        self.clear()
        return failures

    def clear(self) -> None:
        """Forget everything (after commit or rollback)."""
        self._before.clear()
        self._dirs.clear()
        self._undo.clear()


def active() -> Journal | None:
    """The journal of the transaction running in this context, if any."""
    return _ACTIVE.get()


@contextlib.contextmanager
def activated(journal: Journal) -> Iterator[Journal]:
    """Make journal the active one for the block (the rollback itself runs outside it)."""
    token = _ACTIVE.set(journal)
    try:
        yield journal
    finally:
        _ACTIVE.reset(token)


def note_write(path: Path) -> None:
    """Called before a file at path is replaced or removed."""
    journal = _ACTIVE.get()
    if journal is not None:
        journal.record(path)


def note_created(path: Path) -> None:
    """Called after a create-if-absent write made path."""
    journal = _ACTIVE.get()
    if journal is not None:
        journal.record_absent(path)


def note_dirs(dirs: list[Path]) -> None:
    """Called after directories were created."""
    journal = _ACTIVE.get()
    if journal is not None and dirs:
        journal.record_dirs(dirs)


def note_tree(root: Path) -> None:
    """Called before a directory tree is removed: record every file in it."""
    journal = _ACTIVE.get()
    if journal is None:
        return
    # rolling back recreates each file (atomic_write makes its parents) in its old place
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            journal.record(Path(dirpath) / name)


def note_undo(undo: Callable[[], object]) -> None:
    """Called after a change that is not a file write, with the callable that reverses it."""
    journal = _ACTIVE.get()
    if journal is not None:
        journal.record_undo(undo)


def note_created_tree(root: Path) -> None:
    """Called after a new directory tree was moved into place: rolling back removes it."""
    journal = _ACTIVE.get()
    if journal is None:
        return
    dirs: list[Path] = []
    for dirpath, _dirnames, filenames in os.walk(root):
        dirs.append(Path(dirpath))
        for name in filenames:
            journal.record_absent(Path(dirpath) / name)
    journal.record_dirs(dirs)
