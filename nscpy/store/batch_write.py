"""Phase 1 of a batch commit: every staged file written (not yet visible), maybe ahead of time.

Files go to a temp name beside their target (``.<name>.tmp-<random>``), or, in a directory that
does not exist yet, under their final name inside a hidden copy of the missing tree
(``.<dir>.tmp-<random>``) that the commit renames into place once. Directories are created and
opened by the caller's thread (below a store root without following links, as
atomic.open_below does); files are written by
up to two threads, because creating a file is mostly kernel time and os.open/os.write release
the GIL. Writing can start while the caller is still staging (Batch.write_ahead), so signing
and file creation overlap.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from nscpy.store.atomic import ensure_dir, io_error, open_below
from nscpy.store.errors import StoreError

if TYPE_CHECKING:  # the child is imported when a batch first writes in the background
    from nscpy.store.batch_child import ChildWork, WriterChild

__all__ = ["PARALLEL_WRITE_MIN", "Writer", "has_syncfs", "inside", "libc_syncfs", "under"]

PARALLEL_WRITE_MIN = 2000
"""Below this many files one writer thread is as fast as two."""
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


class Item(Protocol):
    """What the writer needs of a staged file (batch._Item)."""

    data: bytes
    mode: int
    temp: str | None


Work = Sequence[tuple[Path, Sequence[tuple[str, Item]]]]


@functools.cache
def libc_syncfs() -> Any:
    """libc's syncfs(2) (errno kept for ctypes.get_errno), or None where it is missing; looked
    up once. The process's own symbols include libc's (ctypes.util.find_library would run
    ldconfig in a subprocess)."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None


def has_syncfs() -> bool:
    """True where syncfs(2) exists (Linux): the condition for building new trees whole."""
    return libc_syncfs() is not None


def _current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _missing_root(d: Path) -> Path | None:
    """The highest missing directory on the way to d (None when d exists)."""
    if os.path.lexists(d):
        return None
    root = d
    while not os.path.lexists(root.parent) and root.parent != root:
        root = root.parent
    return root if os.path.isdir(root.parent) and not os.path.islink(root.parent) else None


def under(d: Path, root: Path) -> bool:
    """True when d is root or below it (d.parents would build a path per level)."""
    return d.parts[: len(root.parts)] == root.parts


def inside(d: Path, trees: dict[Path, Path]) -> Path | None:
    """Where d is built when it lies in a new tree (None: d is written in place)."""
    for root, hidden in trees.items():
        if under(d, root):
            return hidden / d.relative_to(root)
    return None


def _threads(files: int) -> int:
    if files < PARALLEL_WRITE_MIN:
        return 1
    try:
        return min(2, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return min(2, os.cpu_count() or 1)


def _split(work: Work, parts: int) -> list[Work]:
    """Directories dealt into `parts` groups of about equal file counts."""
    if parts <= 1:
        return [work]
    groups: list[list[tuple[Path, Sequence[tuple[str, Item]]]]] = [[] for _ in range(parts)]
    sizes = [0] * parts
    for d, items in sorted(work, key=lambda w: -len(w[1])):
        light = sizes.index(min(sizes))
        groups[light].append((d, items))
        sizes[light] += len(items)
    return [g for g in groups if g]


class Writer:
    """Writes staged files under temp names or into hidden new trees; remembers what it made."""

    def __init__(self, *, sync_each: bool, build_trees: bool) -> None:
        self.sync_each = sync_each
        self.build_trees = build_trees
        self.trees: dict[Path, Path] = {}
        self.tree_roots: dict[Path, Path | None] = {}  # missing dir -> the store root above it
        self.places: dict[Path, Path] = {}
        self.opened: dict[Path, int] = {}
        self.touched: set[Path] = set()
        self._umask = _current_umask()
        self._tag = f".tmp-{os.urandom(5).hex()}"
        self._pool: ThreadPoolExecutor | None = None
        self._futures: list[Future[None]] = []
        self._child: WriterChild | None = None

    def prepare(self, dirs: Iterable[Path], roots: dict[Path, Path]) -> None:
        """Create the directories (in this thread), decide where each one's files go, and open
        each; below a store root every level is reached without following links."""
        for d in dirs:
            if d in self.places:
                continue
            root = roots.get(d)
            where = inside(d, self.trees)
            if where is None and self.build_trees:
                missing = _missing_root(d)
                # a tree is built only strictly below the store root (which may be a link)
                if missing is not None and (root is None or root in missing.parents):
                    hidden = missing.with_name(f".{missing.name}{self._tag}")
                    self.trees[missing] = hidden
                    self.tree_roots[missing] = root
                    self.touched.add(missing.parent)  # the rename lands there
                    where = inside(d, self.trees)
            place = where or d
            self.places[d] = place
            if root is not None:
                fd, created = open_below(root, place)
            else:
                created = ensure_dir(place)
                try:
                    fd = os.open(place, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                except OSError as exc:
                    raise io_error("open directory", d, exc) from exc
            self.opened[d] = fd
            if where is None:
                self.touched.update(c.parent for c in created)
                self.touched.add(d)

    def rename_tree(self, missing: Path, hidden: Path) -> None:
        """Publish a hidden tree under its real name (through the parent's descriptor)."""
        root = self.tree_roots.get(missing)
        if root is None:
            os.rename(hidden, missing)
            return
        parent, _ = open_below(root, missing.parent)
        try:
            os.rename(hidden.name, missing.name, src_dir_fd=parent, dst_dir_fd=parent)
        finally:
            os.close(parent)

    def write(self, work: Work, roots: dict[Path, Path], *, background: bool) -> None:
        """Write these files, now (raising the first error) or in the background (see wait).

        Background writes go to a forked child where that is possible (batch_child), else to
        up to two threads."""
        self.prepare((d for d, _ in work), roots)
        if self._child is None and background and not self.sync_each:
            from nscpy.store import batch_child  # pickle and the rest: not for read commands

            if batch_child.can_fork():
                self._child = batch_child.WriterChild()
        if self._child is not None:
            self._child.send(self._child_work(work, roots))
            if not background:
                self.wait()
            return
        groups = _split(work, _threads(sum(len(items) for _, items in work)))
        if not background and len(groups) == 1:
            self._write_group(groups[0])
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(2, thread_name_prefix="nscpy-batch")
        self._futures += [self._pool.submit(self._write_group, g) for g in groups]
        if not background:
            self.wait()

    def _child_work(self, work: Work, roots: dict[Path, Path]) -> ChildWork:
        """The child's share: each file's temp name is decided (and noted) here."""
        out: ChildWork = []
        for d, items in work:
            place = self.places[d]
            root = roots.get(d)
            files = []
            for name, it in items:
                it.temp = self._temp_name(d, name)
                files.append((it.temp, it.mode, it.data))
            out.append((str(place), None if root is None else str(root), files))
        return out

    def _temp_name(self, d: Path, name: str) -> str:
        # in a new tree the file gets its final name: the tree is renamed, not the file
        return name if self.places[d] != d else f".{name}{self._tag}"

    def wait(self) -> None:
        """Wait for background writes; raise the first error."""
        futures, self._futures = self._futures, []
        errors = [e for e in (f.exception() for f in futures) if e is not None]
        child, self._child = self._child, None
        if child is not None:
            try:
                child.finish()
            except StoreError as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    def close(self) -> None:
        """Stop the threads and close every directory descriptor."""
        self.stop()
        for fd in self.opened.values():
            os.close(fd)
        self.opened.clear()

    def stop(self) -> None:
        """Wait for the background writes to end (errors are left to wait(); a child's are
        dropped: stop() comes before an abort)."""
        for f in self._futures:
            f.exception()
        self._futures = []
        child, self._child = self._child, None
        if child is not None:
            try:
                child.finish()
            except StoreError:
                pass
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def abort(self, written: Iterable[tuple[Path, str]]) -> None:
        """Remove the temp files (d, temp name) and the hidden trees, and close. Call stop()
        first, so that `written` lists what the threads wrote."""
        self.stop()
        for d, temp in written:
            if d in self.opened and self.places.get(d) == d:
                try:
                    os.unlink(temp, dir_fd=self.opened[d])
                except OSError:
                    pass
        import shutil

        for hidden in self.trees.values():
            shutil.rmtree(hidden, ignore_errors=True)
        self.close()

    def dir_fd(self, d: Path) -> int:
        """The descriptor of the directory d's files are written in (opened by prepare)."""
        return self.opened[d]

    def _write_group(self, group: Work) -> None:
        for d, items in group:
            self._write_dir(d, items)

    def _write_dir(self, d: Path, items: Sequence[tuple[str, Item]]) -> None:
        dfd = self.dir_fd(d)
        for name, it in items:
            temp = self._temp_name(d, name)
            try:
                fd = os.open(temp, _OPEN_FLAGS, it.mode, dir_fd=dfd)
            except OSError as exc:
                raise io_error("write", d / name, exc) from exc
            it.temp = temp
            try:
                if it.mode & ~self._umask != it.mode:
                    os.fchmod(fd, it.mode)  # the umask filtered O_CREAT's mode
                done = os.write(fd, it.data)  # one call writes a small file whole
                if done < len(it.data):
                    view = memoryview(it.data)[done:]
                    while view:
                        view = view[os.write(fd, view) :]
                if self.sync_each:
                    os.fsync(fd)
            except OSError as exc:
                raise io_error("write", d / name, exc) from exc
            finally:
                os.close(fd)
