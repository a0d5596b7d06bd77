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

import contextlib
import errno
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from nscpy.store import journal
from nscpy.store.durable import (
    DIR_MODE,
    FILE_MODE,
    as_bytes,
    finish,
    fsync_dir,
    fsync_dir_fd,
    io_error,
    is_temp_name,
    make_dirs,
    missing_dirs,
    unlink_quietly,
    write_temp,
)
from nscpy.store.errors import StoreError, StoreIOError, StoreLocked, UnsafePath

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "FileLock",
    "atomic_create",
    "atomic_write",
    "check_below",
    "open_below",
    "remove_below",
    "remove_tree_below",
    "write_output",
    "ensure_dir",
    "fsync_dir",
    "io_error",
    "is_temp_name",
]


def check_below(root: Path, path: Path) -> None:
    """Refuse path unless every directory between root and path is a real directory.

    A store whose shard or creds directory was replaced by a symbolic link would otherwise
    have seeds written wherever the link points. root itself may be a link (a keystore on
    another volume is the user's choice); nothing below it may be. Missing levels are fine.
    The check is by lstat, level by level: writes use open_below, which cannot be raced; this
    serves removals and the pre-flight checks a use case makes before its first write.
    """
    import stat  # here: describe's start-up imports this module but never writes

    try:
        rel = path.relative_to(root)
    except ValueError:
        raise UnsafePath(f"refusing to write {str(path)!r}: it is outside {str(root)!r}") from None
    probe = root
    for part in rel.parts[:-1]:
        probe = probe / part
        try:
            mode = os.lstat(probe).st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise io_error("inspect", probe, exc) from exc
        if stat.S_ISLNK(mode):
            raise UnsafePath(
                f"refusing to write {str(path)!r}: {str(probe)!r} is a symbolic link, and "
                "directories inside the store must be real directories; replace the link "
                "with a directory"
            )
        if not stat.S_ISDIR(mode):
            raise StoreIOError(
                errno.ENOTDIR, f"cannot write {str(path)!r}: {str(probe)!r} is not a directory"
            )


def ensure_dir(path: Path) -> list[Path]:
    """mkdir -p with mode 0700 for each created level; returns the created dirs, top first.

    It follows links; store writes reach their directory through open_below instead. The
    levels are noted in the active transaction's journal before they are made."""
    missing = missing_dirs(path)
    journal.note_dirs(missing)
    return make_dirs(missing)


def open_below(root: Path, directory: Path, *, create: bool = True) -> tuple[int, list[Path]]:
    """A descriptor of directory, reached from root one level at a time with O_NOFOLLOW and
    made (0700) where missing; returns it with the levels created, top first.

    Unlike check_below followed by path-based calls, nothing can swap a level for a link
    between the check and the write: each level is opened relative to the one above it, and a
    link at any level below root is UnsafePath. root itself may be a link, and is created if
    missing. The caller closes the descriptor. create=False (for removals) makes nothing: a
    missing level is FileNotFoundError.
    """
    try:
        rel = directory.relative_to(root)
    except ValueError:
        raise UnsafePath(
            f"refusing to write in {str(directory)!r}: it is outside {str(root)!r}"
        ) from None
    created = ensure_dir(root) if create else []
    try:
        fd = os.open(root, _DIR_FLAGS)
    except OSError as exc:
        if not create and isinstance(exc, FileNotFoundError):
            raise
        raise io_error("open directory", root, exc) from exc
    here = root
    try:
        for part in rel.parts:
            here = here / part
            made = False
            try:
                if create:
                    os.mkdir(part, DIR_MODE, dir_fd=fd)
                    made = True
            except FileExistsError:
                pass  # a directory (checked by the open below), a link, or a file
            except OSError as exc:
                raise io_error("create directory", here, exc) from exc
            try:
                sub = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if not create and isinstance(exc, FileNotFoundError):
                    raise
                raise _not_a_directory(here, exc) from None
            os.close(fd)
            fd = sub
            if made:
                os.fchmod(fd, DIR_MODE)  # mkdir's mode is filtered by the umask
                created.append(here)
                journal.note_dirs([here])  # after: a crash just before leaves an empty dir
    except BaseException:
        os.close(fd)
        raise
    return fd, created


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


def _not_a_directory(path: Path, exc: OSError) -> StoreError:
    if os.path.islink(path):
        return UnsafePath(
            f"refusing to write through {str(path)!r}: it is a symbolic link, and directories "
            "inside the store must be real directories; replace the link with a directory"
        )
    if exc.errno == errno.ENOTDIR:
        return StoreIOError(
            errno.ENOTDIR, f"cannot create directory {str(path)!r}: a file is in the way"
        )
    return io_error("open directory", path, exc)


def remove_below(root: Path, path: Path, *, prune_parent: bool = False, sync: bool = True) -> bool:
    """Delete the file path (below root); False if it is not there.

    The unlink acts on a descriptor of path's directory reached from root without following
    links (open_below), so no level swapped for a link after a check can send it outside the
    store: a link at any level is UnsafePath. prune_parent: also remove that directory if it is
    now empty (a keystore shard), through a descriptor of the level above. sync=False leaves
    flushing the directory to the caller (a batch flushes once)."""
    top = path.parent.parent if prune_parent else path.parent
    try:
        fd, _ = open_below(root, top, create=False)
    except FileNotFoundError:
        return False
    try:
        here = fd
        if prune_parent:
            try:
                here = os.open(path.parent.name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise _not_a_directory(path.parent, exc) from None
        try:
            journal.note_write(path)  # once the directory is known to be inside the store
            os.unlink(path.name, dir_fd=here)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise io_error("remove", path, exc) from exc
        finally:
            if here != fd:
                os.close(here)
        if prune_parent:
            with contextlib.suppress(OSError):  # other keys share the shard, or it is gone
                os.rmdir(path.parent.name, dir_fd=fd)
        if sync:
            fsync_dir_fd(fd, top)
        return True
    finally:
        os.close(fd)


def remove_tree_below(root: Path, directory: Path) -> None:
    """Remove the directory tree (below root): it is renamed to a hidden name in its parent
    first (so it vanishes at once even if the removal is interrupted), then emptied and
    removed, every step relative to a descriptor reached without following links. A link at
    or above directory is UnsafePath; FileNotFoundError if it is not there."""
    import stat

    parent, _ = open_below(root, directory.parent, create=False)
    try:
        st = os.stat(directory.name, dir_fd=parent, follow_symlinks=False)
        if not stat.S_ISDIR(st.st_mode):
            raise _not_a_directory(directory, OSError(errno.ENOTDIR, "not a directory"))
        journal.note_tree(directory)  # once it is known to be a directory inside the store
        grave = f".{directory.name}.deleted-{os.urandom(6).hex()}"
        try:
            os.rename(directory.name, grave, src_dir_fd=parent, dst_dir_fd=parent)
        except OSError as exc:
            raise io_error("delete", directory, exc) from exc
        fsync_dir_fd(parent, directory.parent)
        _empty_and_remove(parent, grave)
    finally:
        os.close(parent)


def _empty_and_remove(parent: int, name: str) -> None:
    # best effort after the rename, as shutil.rmtree(ignore_errors=True) was: the tree is
    # already gone from its name. O_NOFOLLOW: a link swapped in is removed, never entered.
    try:
        fd = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=parent)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(name, dir_fd=parent)
        return
    try:
        for entry in os.scandir(fd):
            if entry.is_dir(follow_symlinks=False):
                _empty_and_remove(fd, entry.name)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.name, dir_fd=fd)
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        os.rmdir(name, dir_fd=parent)


def _parent(path: Path, root: Path | None) -> tuple[int | None, list[Path]]:
    """(descriptor of path's directory or None, levels created): open_below with root."""
    if root is None:
        return None, ensure_dir(path.parent)
    return open_below(root, path.parent)


def atomic_write(
    path: Path, data: bytes | str, *, mode: int = FILE_MODE, root: Path | None = None
) -> None:
    """Replace path with data (temp + fsync + rename + fsync dir); parents are made 0700.

    With root (the store directory path lies in), path's directory is reached from root
    without following links (open_below): a linked directory inside the store is refused."""

    def rename_over(tmp: str, dir_fd: int | None) -> bool:
        try:
            if dir_fd is None:
                os.replace(tmp, path)
            else:
                os.replace(tmp, path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except OSError as exc:
            unlink_quietly(tmp, dir_fd)
            raise io_error("write", path, exc) from exc
        return True

    _write_and_place(path, data, mode, root, rename_over)


def atomic_create(
    path: Path, data: bytes | str, *, mode: int = FILE_MODE, root: Path | None = None
) -> bool:
    """Create path with data only if it does not exist; returns False (and writes nothing) if
    it does. Uses link(2), which, unlike rename, refuses to replace an existing name."""

    def link_new(tmp: str, dir_fd: int | None) -> bool:
        try:
            if dir_fd is None:
                os.link(tmp, path)
            else:
                os.link(tmp, path.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except FileExistsError:
            return False
        except OSError as exc:
            raise io_error("write", path, exc) from exc
        finally:
            unlink_quietly(tmp, dir_fd)
        return True

    return _write_and_place(path, data, mode, root, link_new)


def _write_and_place(
    path: Path,
    data: bytes | str,
    mode: int,
    root: Path | None,
    place: Callable[[str, int | None], bool],
) -> bool:
    """The frame of atomic_write and atomic_create: reach the directory, note the write in the
    journal, write a synced temp file, `place` it (False: nothing was placed), flush the names."""
    dir_fd, created = _parent(path, root)
    try:
        recorded = journal.note_write(path)
        tmp = write_temp(path, as_bytes(data), mode, True, dir_fd)
        if not place(tmp, dir_fd):
            journal.note_not_written(path, recorded)  # the file there is another writer's
            return False
        finish(path, dir_fd, created)
        return True
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


# Paths that name a stream rather than a file, even when they resolve to a regular file
# (/dev/stdout redirected with '>'): writing goes into them, never a rename over them.
_STREAM_DIRS = ("/dev/", "/proc/")


def write_output(path: Path, data: bytes | str, *, mode: int = FILE_MODE) -> None:
    """Write a command's -o FILE: regular files (or a new name) get atomic_write with mode;
    anything else -- a named pipe, a character device, /dev/stdout, a process substitution --
    is opened and written into, as a shell redirection would, never replaced by a file."""
    import stat

    try:
        own = os.lstat(path)
    except FileNotFoundError:
        atomic_write(path, data, mode=mode)
        return
    except OSError as exc:
        raise io_error("inspect", path, exc) from exc
    if stat.S_ISREG(own.st_mode):
        atomic_write(path, data, mode=mode)
        return
    try:
        target = os.stat(path)
    except OSError as exc:
        raise io_error("write", path, exc) from exc
    if stat.S_ISDIR(target.st_mode):
        raise StoreIOError(errno.EISDIR, f"cannot write {str(path)!r}: it is a directory")
    linked_file = stat.S_ISREG(target.st_mode)
    if linked_file and not os.path.abspath(path).startswith(_STREAM_DIRS):
        atomic_write(path, data, mode=mode)  # a link to a file: replaced, as before
        return
    # a stream; for a regular file behind /dev/stdout, append as the shell's '>>' or after '>'
    flags = os.O_WRONLY | os.O_CLOEXEC | (os.O_APPEND if linked_file else 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise io_error("open", path, exc) from exc
    try:
        view = memoryview(as_bytes(data))
        while view:
            view = view[os.write(fd, view) :]
    except OSError as exc:
        raise io_error("write", path, exc) from exc
    finally:
        os.close(fd)


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
        flags = os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW  # a planted link is not followed
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
