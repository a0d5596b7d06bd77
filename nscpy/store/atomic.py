"""Crash-safe file writes, directory creation with nsc's modes, a process lock and batched writes.

Theory of operation. A reader must only ever see the old or the new content of a file, never a
torn one, even if the writer is SIGKILLed: every write goes to a temp file in the target's
directory, is flushed to disk, then renamed over the target (rename is atomic within a file
system), and the directory is flushed so the rename itself survives a power cut.

An fsync costs about half a millisecond on ext4, so many files go through
``nscpy.store.batch.Batch`` instead, which flushes once per batch. Temp files are named
``.<name>.tmp-<random>`` so that nsc, which lists only ``*.jwt``/``*.nk``/``*.creds``, never
mistakes a leftover for data.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from types import TracebackType

from nscpy.store import journal
from nscpy.store.errors import StoreError, StoreIOError, StoreLocked

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "FileLock",
    "atomic_write",
    "ensure_dir",
    "fsync_dir",
    "io_error",
    "is_temp_name",
]

FILE_MODE = 0o600
DIR_MODE = 0o700
_TMP_MARK = ".tmp-"


def io_error(action: str, path: Path | str, exc: OSError) -> StoreIOError:
    """A StoreIOError that names the path and the OS reason in one line."""
    reason = exc.strerror or str(exc)
    return StoreIOError(exc.errno or 0, f"cannot {action} {str(path)!r}: {reason}")


def is_temp_name(name: str) -> bool:
    """True for the names of our temp files (leftovers of a killed writer)."""
    return name.startswith(".") and _TMP_MARK in name


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}{_TMP_MARK}{os.urandom(6).hex()}")


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (new names, renames) to disk."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise io_error("open directory", path, exc) from exc
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems (and all of them on some platforms) cannot fsync a directory.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise io_error("flush directory", path, exc) from exc
    finally:
        os.close(fd)


def ensure_dir(path: Path) -> list[Path]:
    """mkdir -p with mode 0700 for each created level; returns the created dirs, top first."""
    missing: list[Path] = []
    probe = path
    while not probe.is_dir():
        if probe.exists() or probe.is_symlink():
            raise StoreIOError(
                errno.ENOTDIR, f"cannot create directory {str(probe)!r}: a file is in the way"
            )
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    created: list[Path] = []
    journal.note_dirs(missing[::-1])
    for d in reversed(missing):
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:
            continue  # a parallel writer made it first
        except OSError as exc:
            raise io_error("create directory", d, exc) from exc
        os.chmod(d, DIR_MODE)  # mkdir's mode is filtered by the umask
        created.append(d)
    return created


def _write_temp(path: Path, data: bytes, mode: int, sync: bool) -> Path:
    tmp = _temp_path(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    except OSError as exc:
        raise io_error("write", path, exc) from exc
    try:
        os.fchmod(fd, mode)  # O_CREAT's mode is filtered by the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if sync:
            os.fsync(fd)
    except OSError as exc:
        os.close(fd)
        _unlink_quietly(tmp)
        raise io_error("write", path, exc) from exc
    except BaseException:
        os.close(fd)
        _unlink_quietly(tmp)
        raise
    os.close(fd)
    return tmp


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def atomic_write(path: Path, data: bytes | str, *, mode: int = FILE_MODE) -> None:
    """Replace path with data (temp + fsync + rename + fsync dir); parents are made 0700."""
    created = ensure_dir(path.parent)
    journal.note_write(path)
    tmp = _write_temp(path, _as_bytes(data), mode, sync=True)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise io_error("write", path, exc) from exc
    fsync_dir(path.parent)
    if created:
        fsync_dir(created[0].parent)


def atomic_create(path: Path, data: bytes | str, *, mode: int = FILE_MODE) -> bool:
    """Create path with data only if it does not exist; returns False (and writes nothing) if
    it does. Uses link(2), which, unlike rename, refuses to replace an existing name."""
    created = ensure_dir(path.parent)
    journal.note_write(path)
    tmp = _write_temp(path, _as_bytes(data), mode, sync=True)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError as exc:
        raise io_error("write", path, exc) from exc
    finally:
        _unlink_quietly(tmp)
    fsync_dir(path.parent)
    if created:
        fsync_dir(created[0].parent)
    return True


# (thread id, lock path) -> the FileLock that holds the flock for that thread. A second FileLock
# on the same path in the same thread (an account edit inside an nscpy.api transaction) joins the
# hold instead of opening a new descriptor, whose flock would wait for the thread's own lock.
_HELD: dict[tuple[int, str], FileLock] = {}


class FileLock:
    """An exclusive fcntl.flock on a lock file, held by this process until exit() or close.

    The kernel drops the lock when the process dies, so a SIGKILLed writer never leaves the
    store locked. ``create=False`` locks an existing file (e.g. an operator's .nsc) instead of
    making a new lock file. Re-entrant within one thread, across FileLock objects on one path;
    other threads wait as other processes do.
    """

    def __init__(
        self, path: Path, *, timeout: float = 30.0, create: bool = True, poll: float = 0.005
    ) -> None:
        self.path = path
        self.timeout = timeout
        self.create = create
        self.poll = poll
        self._fd: int | None = None
        self._depth = 0
        self._joined = False
        self._key: tuple[int, str] | None = None

    @property
    def locked(self) -> bool:
        """True while this object holds the lock (or joined this thread's hold of it)."""
        return self._fd is not None or self._joined

    def acquire(self) -> None:
        """Take the lock, waiting up to timeout seconds; re-entrant within one thread."""
        import fcntl
        import threading

        if self.locked:
            self._depth += 1
            return
        key = (threading.get_ident(), os.path.abspath(self.path))
        if key in _HELD:
            self._joined = True
            self._depth = 1
            return
        flags = os.O_RDONLY | os.O_CLOEXEC
        if self.create:
            ensure_dir(self.path.parent)
            flags |= os.O_CREAT
        try:
            fd = os.open(self.path, flags, FILE_MODE)
        except FileNotFoundError as exc:
            raise StoreError(f"cannot lock {str(self.path)!r}: it does not exist") from exc
        except OSError as exc:
            raise io_error("lock", self.path, exc) from exc
        deadline = time.monotonic() + self.timeout
        delay = self.poll
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise StoreLocked(
                        f"{str(self.path)!r} is locked by another process after waiting "
                        f"{self.timeout:g}s; retry when it finishes"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        self._fd = fd
        self._depth = 1
        self._key = key
        _HELD[key] = self

    def release(self) -> None:
        """Drop the lock (the outermost release of a re-entrant hold)."""
        if not self.locked:
            return
        self._depth -= 1
        if self._depth > 0:
            return
        if self._joined:
            self._joined = False
            return
        if self._key is not None:
            _HELD.pop(self._key, None)
            self._key = None
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
