"""Many atomic writes with one lock-free flush pass (the 10,000-users-in-one-run path).

Theory of operation. An fsync costs about half a millisecond on ext4, so one per file would
make a 10,000-user batch take seconds per file kind. A batch instead (1) writes every temp file
(``.<name>.tmp-<random>``, opened relative to its directory's descriptor to skip path lookups),
(2) flushes them all with one ``syncfs(2)`` per file system (Linux; elsewhere one fsync per
file), (3) renames each temp over its target, and (4) flushes the touched directories once.
Every target still flips atomically from old to new content; a crash before (3) leaves only
temp files, which nsc and nscpy ignore. Small batches (< 32 files) use per-file fsync, which is
cheaper than flushing a whole file system.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from nscpy.store import journal
from nscpy.store.atomic import FILE_MODE, ensure_dir, fsync_dir, io_error, open_below

__all__ = ["SYNCFS_THRESHOLD", "Batch"]

SYNCFS_THRESHOLD = 32
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


def _syncfs(paths: Iterable[Path]) -> bool:
    """One syncfs(2) per file system holding these paths; False if the platform lacks it."""
    try:
        import ctypes
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return False
    seen: set[int] = set()
    for p in paths:
        dev = os.stat(p).st_dev
        if dev in seen:
            continue
        seen.add(dev)
        fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if syncfs(fd) != 0:
                err = ctypes.get_errno()
                raise io_error("flush", p, OSError(err, os.strerror(err)))
        finally:
            os.close(fd)
    return True


def _current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _as_bytes(data: bytes | str) -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


class _Item:
    __slots__ = ("data", "mode", "exclusive", "temp")

    def __init__(self, data: bytes, mode: int, exclusive: bool) -> None:
        self.data = data
        self.mode = mode
        self.exclusive = exclusive
        self.temp: str | None = None


class Batch:
    """Stage writes with write()/remove(), then commit() (or leave a `with` block normally).

    Nothing is visible until commit(); leaving the `with` block by an exception discards
    everything staged and no target changes.
    """

    def __init__(self) -> None:
        # parent dir -> file name -> item; grouping lets each directory be opened once
        self._dirs: dict[Path, dict[str, _Item]] = {}
        self._roots: dict[Path, Path] = {}
        self._removals: list[Path] = []
        self.committed: list[Path] = []
        self.skipped: list[Path] = []

    def __len__(self) -> int:
        return sum(len(v) for v in self._dirs.values()) + len(self._removals)

    def write(
        self,
        path: Path,
        data: bytes | str,
        *,
        mode: int = FILE_MODE,
        exclusive: bool = False,
        root: Path | None = None,
    ) -> None:
        """Stage a write; exclusive=True creates the file only if absent (see commit).

        With root, no directory between root and path may be a symbolic link (at commit, each
        directory is reached from root without following links: atomic.open_below)."""
        if root is not None:
            self._roots[path.parent] = root
        self._dirs.setdefault(path.parent, {})[path.name] = _Item(_as_bytes(data), mode, exclusive)

    def staged(self, path: Path) -> bytes | None:
        """The data staged for path, if any (so a batch can see its own pending writes)."""
        item = self._dirs.get(path.parent, {}).get(path.name)
        return item.data if item else None

    def remove(self, path: Path) -> None:
        """Stage the removal of path (done after the writes; a missing file is fine)."""
        self._removals.append(path)

    def discard(self) -> None:
        """Forget everything staged; nothing was written yet."""
        self._dirs.clear()
        self._roots.clear()
        self._removals.clear()

    def commit(self, on_exists: Callable[[Path, bytes], None] | None = None) -> list[Path]:
        """Write, flush, rename and flush directories once; returns the paths written.

        For an exclusive write whose target already exists, the file is left as it is and
        on_exists(path, staged_data) is called afterwards (it may raise, e.g. KeyConflict).
        """
        try:
            total = sum(len(v) for v in self._dirs.values())
            small = total < SYNCFS_THRESHOLD
            touched: set[Path] = set()
            opened: dict[Path, int] = {}
            try:
                self._write_temps(opened, touched, sync_each=small)
                if total and not small and not _syncfs(touched):
                    for d, items in self._dirs.items():
                        for it in items.values():
                            _fsync_at(opened[d], it.temp)
                conflicts = self._rename_all(opened)
            except BaseException:
                self._unlink_temps(opened)
                raise
            finally:
                for fd in opened.values():
                    os.close(fd)
            for path in self._removals:
                journal.note_write(path)
                try:
                    os.unlink(path)
                    touched.add(path.parent)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise io_error("remove", path, exc) from exc
            # one syncfs also covers many directories (a keystore batch touches ~1,000 shards)
            if not (len(touched) >= SYNCFS_THRESHOLD and _syncfs(touched)):
                for d in sorted(touched):
                    fsync_dir(d)
            self.skipped = [path for path, _ in conflicts]
            if on_exists is not None:
                for path, data in conflicts:
                    on_exists(path, data)
            return self.committed
        finally:
            self.discard()

    def _write_temps(self, opened: dict[Path, int], touched: set[Path], sync_each: bool) -> None:
        umask = _current_umask()
        tag = f".tmp-{os.urandom(5).hex()}"
        for d, items in self._dirs.items():
            root = self._roots.get(d)
            if root is not None:
                # reached from the store root without following links (atomic.open_below)
                dfd, created = open_below(root, d)
            else:
                created = ensure_dir(d)
                try:
                    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
                except OSError as exc:
                    raise io_error("open directory", d, exc) from exc
            opened[d] = dfd
            touched.update(c.parent for c in created)
            touched.add(d)
            for n, (name, it) in enumerate(items.items()):
                temp = f".{name}{tag}{n}"
                try:
                    fd = os.open(temp, _OPEN_FLAGS, it.mode, dir_fd=dfd)
                except OSError as exc:
                    raise io_error("write", d / name, exc) from exc
                it.temp = temp
                try:
                    if it.mode & ~umask != it.mode:
                        os.fchmod(fd, it.mode)  # the umask filtered O_CREAT's mode
                    view = memoryview(it.data)
                    while view:
                        view = view[os.write(fd, view) :]
                    if sync_each:
                        os.fsync(fd)
                except OSError as exc:
                    raise io_error("write", d / name, exc) from exc
                finally:
                    os.close(fd)

    def _rename_all(self, opened: dict[Path, int]) -> list[tuple[Path, bytes]]:
        conflicts: list[tuple[Path, bytes]] = []
        for d, items in self._dirs.items():
            dfd = opened[d]
            for name, it in items.items():
                temp, it.temp = it.temp, None
                assert temp is not None
                try:
                    if it.exclusive:
                        journal.note_write(d / name)
                        try:
                            os.link(temp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
                        except FileExistsError:
                            conflicts.append((d / name, it.data))
                            os.unlink(temp, dir_fd=dfd)
                            continue
                        os.unlink(temp, dir_fd=dfd)
                    else:
                        journal.note_write(d / name)
                        os.replace(temp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
                except OSError as exc:
                    it.temp = temp
                    raise io_error("write", d / name, exc) from exc
                self.committed.append(d / name)
        return conflicts

    def _unlink_temps(self, opened: dict[Path, int]) -> None:
        for d, items in self._dirs.items():
            for it in items.values():
                if it.temp is not None and d in opened:
                    try:
                        os.unlink(it.temp, dir_fd=opened[d])
                    except OSError:
                        pass

    def __enter__(self) -> Batch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def _fsync_at(dir_fd: int, name: str | None) -> None:
    assert name is not None
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
