"""Many atomic writes with one lock-free flush pass (the 10,000-users-in-one-run path).

Theory of operation. An fsync costs about half a millisecond on ext4, so one per file would
make a 10,000-user batch take seconds per file kind. A batch instead (1) writes every file
where no reader looks yet (nscpy.store.batch_write: a temp name beside the target, opened
relative to its directory's descriptor, or the file's final name inside a hidden copy of a
directory that does not exist yet), (2) flushes them all with one ``syncfs(2)`` per file system
(Linux; elsewhere one fsync per file), (3) renames each temp over its target and each hidden
tree into place, and (4) flushes the touched directories once. Every target still flips
atomically from old to new content, and a new directory appears whole; a crash before (3)
leaves only hidden temp names, which nsc and nscpy ignore. Small batches (< 32 files) use
per-file fsync, which is cheaper than flushing a whole file system.

Step (1) may start before staging ends (write_ahead), so a caller that signs JWTs while the
kernel creates files uses both cores. If another writer made a new directory meanwhile, the
hidden tree's files are moved in one by one with the usual rules.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import overload

from nscpy.store import journal
from nscpy.store.atomic import (
    FILE_MODE,
    ensure_dir,
    fsync_dir,
    io_error,
    open_below,
    remove_below,
)
from nscpy.store.batch_write import (
    PARALLEL_WRITE_MIN,
    Writer,
    has_syncfs,
    inside,
    libc_syncfs,
    under,
)
from nscpy.store.errors import StoreError

__all__ = ["PARALLEL_WRITE_MIN", "SYNCFS_THRESHOLD", "Batch", "Written"]

SYNCFS_THRESHOLD = 32


def _syncfs(paths: Iterable[Path]) -> bool:
    """One syncfs(2) per file system holding these paths; False if the platform lacks it."""
    syncfs = libc_syncfs()
    if syncfs is None:
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
                import ctypes

                err = ctypes.get_errno()
                raise io_error("flush", p, OSError(err, os.strerror(err)))
        finally:
            os.close(fd)
    return True


class Written(Sequence[Path]):
    """The paths a commit wrote, in order; a new directory's files are listed as (directory,
    names) and their paths built only when read (a 10,000-user batch writes 30,000 files)."""

    def __init__(self) -> None:
        self._parts: list[Path | tuple[Path, Collection[str]]] = []
        self._paths: list[Path] | None = []

    def append(self, path: Path) -> None:
        """One more path."""
        self._parts.append(path)
        self._paths = None

    def add_dir(self, d: Path, names: Collection[str]) -> None:
        """Every name in d (names is kept, not copied)."""
        self._parts.append((d, names))
        self._paths = None

    def _all(self) -> list[Path]:
        if self._paths is None:
            self._paths = []
            for part in self._parts:
                if isinstance(part, tuple):
                    self._paths.extend(part[0] / name for name in part[1])
                else:
                    self._paths.append(part)
        return self._paths

    @overload
    def __getitem__(self, index: int) -> Path: ...
    @overload
    def __getitem__(self, index: slice) -> list[Path]: ...
    def __getitem__(self, index: int | slice) -> Path | list[Path]:
        return self._all()[index]

    def __len__(self) -> int:
        return sum(len(p[1]) if isinstance(p, tuple) else 1 for p in self._parts)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, (str, bytes)):
            return self._all() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Written({self._all()!r})"


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
        self._removals: list[tuple[Path, Path | None]] = []  # (path, store root or None)
        self._pending: dict[Path, list[str]] = {}
        self._writer: Writer | None = None
        self.committed = Written()
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
        self.write_at(path.parent, path.name, data, mode=mode, exclusive=exclusive, root=root)

    def write_at(
        self,
        d: Path,
        name: str,
        data: bytes | str,
        *,
        mode: int = FILE_MODE,
        exclusive: bool = False,
        root: Path | None = None,
    ) -> None:
        """write(d / name, ...) for callers that stage many files in one directory: passing the
        same Path object for d saves building and hashing a path per file (10,000-user batches)."""
        if root is not None:
            self._roots[d] = root
        items = self._dirs.get(d)
        if items is None:
            items = self._dirs[d] = {}
        old = items.get(name)
        if old is not None and old.temp is not None:
            raise StoreError(f"{str(d / name)!r} was staged twice after write_ahead()")
        raw = data.encode("utf-8") if isinstance(data, str) else data
        items[name] = _Item(raw, mode, exclusive)
        if old is None:
            pending = self._pending.get(d)
            if pending is None:
                pending = self._pending[d] = []
            pending.append(name)

    def staged(self, path: Path) -> bytes | None:
        """The data staged for path, if any (so a batch can see its own pending writes)."""
        return self.staged_at(path.parent, path.name)

    def staged_at(self, d: Path, name: str) -> bytes | None:
        """staged(d / name), without building the path."""
        items = self._dirs.get(d)
        item = items.get(name) if items is not None else None
        return item.data if item else None

    def remove(self, path: Path, *, root: Path | None = None) -> None:
        """Stage the removal of path (done after the writes; a missing file is fine). With root
        (the store directory path lies in) it acts on a descriptor of path's directory reached
        without following links (atomic.remove_below): a linked directory is UnsafePath."""
        self._removals.append((path, root))

    def write_ahead(self) -> None:
        """Start writing what is staged so far in the background (nothing becomes visible).

        For big batches: the caller keeps staging while the files are created. A no-op where
        syncfs(2) is missing (per-file fsync needs no head start).
        """
        if not has_syncfs() or not self._pending:
            return
        if self._writer is None:
            self._writer = Writer(sync_each=False, build_trees=True)
        self._writer.write(self._take_pending(), self._roots, background=True)

    def _take_pending(self) -> list[tuple[Path, list[tuple[str, _Item]]]]:
        work = [
            (d, [(name, self._dirs[d][name]) for name in names])
            for d, names in self._pending.items()
        ]
        self._pending = {}
        return work

    def discard(self) -> None:
        """Forget everything staged; files written ahead are removed (none was visible)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.stop()
            writer.abort(self._temps())
        self._dirs.clear()
        self._roots.clear()
        self._removals.clear()
        self._pending.clear()

    def _temps(self) -> list[tuple[Path, str]]:
        return [(d, it.temp) for d, items in self._dirs.items() for it in items.values() if it.temp]

    def commit(self, on_exists: Callable[[Path, bytes], None] | None = None) -> Written:
        """Write, flush, rename and flush directories once; returns the paths written.

        For an exclusive write whose target already exists, the file is left as it is and
        on_exists(path, staged_data) is called afterwards (it may raise, e.g. KeyConflict).
        """
        try:
            total = sum(len(v) for v in self._dirs.values())
            small = total < SYNCFS_THRESHOLD and self._writer is None
            writer = self._writer or Writer(sync_each=small, build_trees=not small and has_syncfs())
            self._writer = writer
            try:
                writer.write(self._take_pending(), self._roots, background=False)
                writer.wait()
                if total and not small and not _syncfs(writer.touched):
                    for d, items in self._dirs.items():
                        for it in items.values():
                            _fsync_at(writer.dir_fd(d), it.temp)
                conflicts = self._rename_all(writer)
            except BaseException:
                writer.stop()
                writer.abort(self._temps())
                self._writer = None
                raise
            writer.close()
            self._writer = None
            touched = writer.touched
            for path, root in self._removals:
                if root is not None:
                    if remove_below(root, path, sync=False):
                        touched.add(path.parent)
                    continue
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

    def _rename_all(self, writer: Writer) -> list[tuple[Path, bytes]]:
        conflicts: list[tuple[Path, bytes]] = []
        trees = writer.trees
        merge: list[Path] = []
        for root, hidden in trees.items():
            try:
                writer.rename_tree(root, hidden)
            except OSError as exc:
                if not os.path.isdir(root):
                    raise io_error("write", root, exc) from exc
                merge.append(root)  # another writer made it meanwhile: move files one by one
                continue
            for d, items in self._dirs.items():
                if under(d, root):
                    self.committed.add_dir(d, tuple(items))
                    for it in items.values():
                        it.temp = None
        for d, items in self._dirs.items():
            src = inside(d, trees)
            if src is not None:
                if any(under(d, r) for r in merge):
                    conflicts += self._move_in(writer, d, items)
                continue
            dfd = writer.dir_fd(d)
            for name, it in items.items():
                temp, it.temp = it.temp, None
                assert temp is not None
                try:
                    if it.exclusive:
                        recorded = journal.note_write(d / name)
                        try:
                            os.link(temp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
                        except FileExistsError:
                            journal.note_not_written(d / name, recorded)
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
        for root in merge:
            import shutil

            shutil.rmtree(trees[root], ignore_errors=True)
        return conflicts

    def _move_in(
        self, writer: Writer, d: Path, items: dict[str, _Item]
    ) -> list[tuple[Path, bytes]]:
        """Move a tree's files into a directory that appeared meanwhile (link/replace rules)."""
        conflicts: list[tuple[Path, bytes]] = []
        root = self._roots.get(d)
        if root is not None:
            dst, created = open_below(root, d)
        else:
            created = ensure_dir(d)
            dst = os.open(d, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        writer.touched.update(c.parent for c in created)
        writer.touched.add(d)
        src = writer.dir_fd(d)
        try:
            for name, it in items.items():
                it.temp = None
                try:
                    if it.exclusive:
                        try:
                            os.link(name, name, src_dir_fd=src, dst_dir_fd=dst)
                        except FileExistsError:
                            conflicts.append((d / name, it.data))
                            continue
                    else:
                        os.replace(name, name, src_dir_fd=src, dst_dir_fd=dst)
                except OSError as exc:
                    raise io_error("write", d / name, exc) from exc
                self.committed.append(d / name)
        finally:
            os.close(dst)
        return conflicts

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
