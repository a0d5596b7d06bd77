"""An undo journal that makes a group of store writes all-or-nothing (nscpy.api transactions).

Theory of operation. While a Journal is active in the current context (a ContextVar, so other
threads and other transactions are unaffected), every store write first records what it is about
to replace: the file's old bytes and mode, or "absent", and the directories it is about to make.
The write itself then happens at once (atomically, as always), so the code inside a transaction
reads its own changes with no overlay. If the transaction fails, ``rollback`` puts every recorded
path back to its first recorded state in reverse order, removes the directories it made (when
empty), and runs the undo callables of changes that are not files (the OS keyring). Only the
first record of a path counts: that is the state before the transaction touched it.

Each record is also appended to a log file (``<data dir>/.nscpy-journal``, mode 0600) and
flushed to disk *before* the write it describes. A process killed half-way leaves that log
behind; ``recover`` (run under the store lock before the next transaction) rolls the store back
from it. A committed transaction deletes its log. Keyring undo steps are not logged: after a
crash a seed stored in the keyring may stay there, unreferenced.

The caller holds the store lock for the whole transaction, so no nscpy writer that locks (account
edits, operator creation, other transactions) interleaves with it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path

from nscpy.store.durable import fsync_dir, replace_file

__all__ = [
    "LOG_NAME",
    "Journal",
    "activated",
    "active",
    "all_or_nothing",
    "note_dirs",
    "note_not_written",
    "note_move",
    "note_not_moved",
    "note_tree",
    "note_undo",
    "note_write",
    "recover",
]

LOG_NAME = ".nscpy-journal"
_ACTIVE: ContextVar[Journal | None] = ContextVar("nscpy_store_journal", default=None)


class Journal:
    """Before-images of the paths a transaction changed, in the order first touched."""

    def __init__(self, log: Path | None = None) -> None:
        self._before: dict[Path, tuple[bytes | None, int]] = {}
        self._dirs: list[Path] = []
        self._undo: list[Callable[[], object]] = []
        self._log_path = log
        self._log_fd: int | None = None

    def __len__(self) -> int:
        return len(self._before) + len(self._dirs) + len(self._undo)

    def record(self, path: Path) -> bool:
        """Remember path's current content (or its absence) unless already recorded; True if
        this call recorded it."""
        if path in self._before:
            return False
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            self._remember(path, None, 0)
            return True
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(f"journal records files, not directories: {str(path)!r}")
        self._remember(path, path.read_bytes(), stat.S_IMODE(st.st_mode))
        return True

    def forget(self, path: Path) -> None:
        """Drop path's record (a file or a directory): the change it announced did not happen
        (a create-if-absent found the name taken), so rolling back must not touch what another
        writer put there."""
        self._log({"forget": str(path)})
        self._drop(path)

    def _drop(self, path: Path) -> None:
        self._before.pop(path, None)
        self._dirs = [d for d in self._dirs if d != path]

    def _remember(self, path: Path, data: bytes | None, mode: int) -> None:
        import base64  # here: the store imports this module on every CLI start-up

        self._log(
            {
                "path": str(path),
                "data": None if data is None else base64.b64encode(data).decode(),
                "mode": mode,
            }
        )
        self._before[path] = (data, mode)

    def record_dirs(self, dirs: list[Path]) -> None:
        """Directories about to be created (removed on rollback when left empty)."""
        for d in dirs:
            self._log({"dir": str(d)})
        self._dirs.extend(dirs)

    def record_undo(self, undo: Callable[[], object]) -> None:
        """A callable that reverses a change the journal cannot see as a file."""
        self._undo.append(undo)

    def _log(self, entry: dict[str, object]) -> None:
        import json

        if self._log_path is None:
            return
        if self._log_fd is None:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC
            self._log_fd = os.open(self._log_path, flags, 0o600)
            os.fchmod(self._log_fd, 0o600)
            fsync_dir(self._log_path.parent)
        os.write(self._log_fd, json.dumps(entry).encode() + b"\n")
        os.fsync(self._log_fd)

    def rollback(self) -> list[str]:
        """Restore every recorded path; returns one line per path that could not be restored."""
        failures: list[str] = []
        for undo in reversed(self._undo):
            try:
                undo()
            except Exception as exc:  # keep restoring the rest; report what failed
                failures.append(f"undo step failed: {exc}")
        for path, (data, mode) in reversed(list(self._before.items())):
            try:
                if data is None:
                    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                        os.unlink(path)
                else:
                    replace_file(path, data, mode)
            except OSError as exc:
                failures.append(f"cannot restore {str(path)!r}: {exc}")
        for d in reversed(self._dirs):
            # only empty ones: something outside the transaction may have put a file there
            with contextlib.suppress(OSError):
                os.rmdir(d)
        if failures:
            self._close_log()  # the log stays: the next transaction retries the rollback
        else:
            self.close()
        return failures

    def close(self) -> None:
        """The transaction is over (committed or rolled back): forget it, delete the log."""
        self._before.clear()
        self._dirs.clear()
        self._undo.clear()
        self._close_log()
        if self._log_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._log_path)
                fsync_dir(self._log_path.parent)

    def _close_log(self) -> None:
        if self._log_fd is not None:
            os.close(self._log_fd)
            self._log_fd = None


def recover(log: Path) -> list[str] | None:
    """Roll back the transaction whose log a killed process left (call under the store lock).

    None if there is no log; else the paths that could not be restored (empty: all were)."""
    import base64
    import json

    try:
        lines = log.read_bytes().splitlines()
    except FileNotFoundError:
        return None
    journal = Journal(log)
    for line in lines:
        entry = _parse(line, json.loads, base64.b64decode)
        if entry is None:
            continue  # the record being written when the process died: its write never ran
        path, before = entry
        if before is _FORGET:
            journal._drop(path)
        elif before is None:
            journal._dirs.append(path)
        elif path not in journal._before:
            journal._before[path] = before
    return journal.rollback()


_FORGET = (b"", -1)  # the parsed form of a {"forget": path} record


def _parse(
    line: bytes, loads: Callable[[bytes], object], b64decode: Callable[[str], bytes]
) -> tuple[Path, tuple[bytes | None, int] | None] | None:
    """(path, (old bytes or None, mode)) for a file record, (path, None) for a directory
    record, (path, _FORGET) for a dropped record, None for anything else (a torn last line)."""
    try:
        entry = loads(line)
    except ValueError:
        return None
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("dir"), str):
        return Path(entry["dir"]), None
    if isinstance(entry.get("forget"), str):
        return Path(entry["forget"]), _FORGET
    path, data, mode = entry.get("path"), entry.get("data", 0), entry.get("mode")
    if not (
        isinstance(path, str) and isinstance(mode, int) and isinstance(data, (str, type(None)))
    ):
        return None
    try:
        return Path(path), (None if data is None else b64decode(data), mode)
    except ValueError:
        return None


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


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """Undo every store write of the block if it raises, then re-raise (one use case's writes:
    a new key's seed is not left behind when the JWT that names it cannot be written).

    Inside an active transaction the block joins it (the transaction undoes it all). Otherwise
    the journal lives in memory only: an error is undone, a killed process is not (nscpy.api
    transactions keep a log for that). Only what the block changed is touched: a file it found
    in place is restored to its old bytes, never deleted. If something cannot be restored, the
    error names it, in one line with the cause.
    """
    if _ACTIVE.get() is not None:
        yield
        return
    journal = Journal()
    try:
        with activated(journal):
            yield
    except BaseException as exc:
        failures = journal.rollback()
        if failures:
            from nscpy.store.errors import StoreError

            raise StoreError(
                f"{exc}; undoing the writes made before it failed too: " + "; ".join(failures)
            ) from exc
        raise
    journal.close()


def note_write(path: Path) -> bool:
    """Called before a file at path is created, replaced or removed; True if the active
    journal recorded it just now (pass that to note_not_written if the write does not happen)."""
    journal = _ACTIVE.get()
    return journal is not None and journal.record(path)


def note_not_written(path: Path, recorded: bool) -> None:
    """Called when a create-if-absent announced by note_write found the name taken: the file is
    someone else's, and rolling back must leave it alone (recorded: note_write's answer)."""
    journal = _ACTIVE.get()
    if journal is not None and recorded:
        journal.forget(path)


def note_dirs(dirs: list[Path]) -> None:
    """Called before directories (that do not exist yet) are created."""
    journal = _ACTIVE.get()
    if journal is not None and dirs:
        journal.record_dirs(dirs)


def note_tree(root: Path) -> None:
    """Called before a directory tree is removed: record every file in it."""
    journal = _ACTIVE.get()
    if journal is None:
        return
    # rolling back recreates each file (replace_file makes its parents) in its old place
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            journal.record(Path(dirpath) / name)


def note_move(source: Path, target: Path) -> list[Path]:
    """Called before a new tree at source is renamed to target: rolling back removes it.
    Returns what it recorded (pass it to note_not_moved if the rename fails)."""
    journal = _ACTIVE.get()
    recorded: list[Path] = []
    if journal is None:
        return recorded
    for dirpath, _dirnames, filenames in os.walk(source):
        moved = target / Path(dirpath).relative_to(source)
        if not moved.exists():
            journal.record_dirs([moved])
            recorded.append(moved)
        for name in filenames:
            # what is there now (nothing, unless rename fails)
            if journal.record(moved / name):
                recorded.append(moved / name)
    return recorded


def note_not_moved(recorded: list[Path]) -> None:
    """Called when the rename announced by note_move failed: whatever is at the target now
    (another writer's tree) is left alone by a rollback."""
    journal = _ACTIVE.get()
    if journal is not None:
        for path in recorded:
            journal.forget(path)


def note_undo(undo: Callable[[], object]) -> None:
    """Called after a change that is not a file write, with the callable that reverses it."""
    journal = _ACTIVE.get()
    if journal is not None:
        journal.record_undo(undo)
