"""Durable file primitives that know nothing of transactions: a synced temp file renamed into
place, directories made 0700 whatever the umask, directory flushes.

nscpy.store.atomic wraps these with the store's rules (no links below the store root, every
change noted in the active transaction's journal); nscpy.store.journal restores before-images
through them when it rolls a transaction back (no journal is active then). Keeping them here
lets the journal sit below atomic in the import graph.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from nscpy.store.errors import StoreIOError

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "as_bytes",
    "finish",
    "fsync_dir",
    "fsync_dir_fd",
    "io_error",
    "is_temp_name",
    "make_dirs",
    "missing_dirs",
    "replace_file",
    "unlink_quietly",
    "write_temp",
]

FILE_MODE = 0o600
DIR_MODE = 0o700
# layout.TEMP_MARK; with its 12 hex digits within layout.TEMP_TAG_MAX (new names leave room)
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


def fsync_dir_fd(fd: int, path: Path) -> None:
    """fsync_dir for a directory already open as fd (path names it in errors)."""
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise io_error("flush directory", path, exc) from exc


def write_temp(path: Path, data: bytes, mode: int, sync: bool, dir_fd: int | None) -> str:
    """Write data to a new temp file beside path; its name (relative to dir_fd when given)."""
    tmp = str(_temp_path(path) if dir_fd is None else _temp_path(path).name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(tmp, flags, mode, dir_fd=dir_fd)
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
        unlink_quietly(tmp, dir_fd)
        raise io_error("write", path, exc) from exc
    except BaseException:
        os.close(fd)
        unlink_quietly(tmp, dir_fd)
        raise
    os.close(fd)
    return tmp


def unlink_quietly(path: Path | str, dir_fd: int | None = None) -> None:
    try:
        os.unlink(path, dir_fd=dir_fd)
    except OSError:
        pass


def as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def finish(path: Path, dir_fd: int | None, created: list[Path]) -> None:
    """Flush the new name (and the directories created for it) to disk."""
    if dir_fd is None:
        fsync_dir(path.parent)
    else:
        fsync_dir_fd(dir_fd, path.parent)
    if created:
        fsync_dir(created[0].parent)


def missing_dirs(path: Path) -> list[Path]:
    """The levels of path that do not exist yet, top first (a file in the way is an error)."""
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
    return missing[::-1]


def make_dirs(missing: list[Path]) -> list[Path]:
    """mkdir each level (top first) with mode 0700; returns the ones this call created."""
    created: list[Path] = []
    for d in missing:
        try:
            os.mkdir(d, DIR_MODE)
        except FileExistsError:
            continue  # a parallel writer made it first
        except OSError as exc:
            raise io_error("create directory", d, exc) from exc
        os.chmod(d, DIR_MODE)  # mkdir's mode is filtered by the umask
        created.append(d)
    return created


def replace_file(path: Path, data: bytes, mode: int) -> None:
    """Replace path with data durably (temp + fsync + rename + fsync dir), making parents 0700.

    Follows links and notes nothing: for restoring before-images, not for store writes."""
    created = make_dirs(missing_dirs(path.parent))
    tmp = write_temp(path, data, mode, True, None)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        unlink_quietly(tmp)
        raise io_error("write", path, exc) from exc
    finish(path, None, created)
