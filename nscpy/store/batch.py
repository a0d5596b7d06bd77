"""Many atomic writes with one lock-free flush pass (the 10,000-users-in-one-run path).

Theory of operation. An fsync costs about half a millisecond on ext4, so one per file would
make a 10,000-user batch take seconds per file kind. A batch instead (1) writes every temp file
(``.<name>.tmp-<random>``, opened relative to its directory's descriptor to skip path lookups),
(2) flushes them all with one ``syncfs(2)`` per file system (Linux; elsewhere one fsync per
file), (3) renames each temp over its target, and (4) flushes the touched directories once.
Every target still flips atomically from old to new content; a crash before (3) leaves only
temp files, which nsc and nscpy ignore. Small batches (< 32 files) use per-file fsync, which is
cheaper than flushing a whole file system.

A directory that does not exist yet (a new account's users/, a new creds directory, a new key
shard) is built whole under a hidden name (``.<dir>.tmp-<random>``) with the files under their
final names, and renamed into place once after the flush: the tree appears atomically, and its
files skip the per-file temp name and rename, which halves the directory operations of a large
first apply. If another writer made the directory meanwhile, the files are moved in one by one
with the usual rules.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from nscpy.store.atomic import FILE_MODE, ensure_dir, fsync_dir, io_error

__all__ = ["PARALLEL_WRITE_MIN", "SYNCFS_THRESHOLD", "Batch"]

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


def _missing_root(d: Path) -> Path | None:
    """The highest missing directory on the way to d (None when d exists)."""
    if os.path.lexists(d):
        return None
    root = d
    while not os.path.lexists(root.parent) and root.parent != root:
        root = root.parent
    return root if os.path.isdir(root.parent) and not os.path.islink(root.parent) else None


class Batch:
    """Stage writes with write()/remove(), then commit() (or leave a `with` block normally).

    Nothing is visible until commit(); leaving the `with` block by an exception discards
    everything staged and no target changes.
    """

    def __init__(self) -> None:
        # parent dir -> file name -> item; grouping lets each directory be opened once
        self._dirs: dict[Path, dict[str, _Item]] = {}
        self._removals: list[Path] = []
        self.committed: list[Path] = []
        self.skipped: list[Path] = []

    def __len__(self) -> int:
        return sum(len(v) for v in self._dirs.values()) + len(self._removals)

    def write(
        self, path: Path, data: bytes | str, *, mode: int = FILE_MODE, exclusive: bool = False
    ) -> None:
        """Stage a write; exclusive=True creates the file only if absent (see commit)."""
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
            # new directory trees are only worth building whole where one syncfs flushes them
            trees = {} if small or not _has_syncfs() else self._new_trees()
            touched.update(root.parent for root in trees)  # the renames land there
            try:
                self._write_temps(opened, touched, sync_each=small, trees=trees)
                if total and not small and not _syncfs(touched):
                    for d, items in self._dirs.items():
                        for it in items.values():
                            _fsync_at(opened[d], it.temp)
                conflicts = self._rename_all(opened, trees, touched)
            except BaseException:
                self._unlink_temps(opened)
                for temp in trees.values():
                    _rmtree(temp)
                raise
            finally:
                for fd in opened.values():
                    os.close(fd)
            for path in self._removals:
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

    def _new_trees(self) -> dict[Path, Path]:
        """Missing top directories of staged files -> the hidden name each is built under."""
        trees: dict[Path, Path] = {}
        tag = os.urandom(5).hex()
        for d in self._dirs:
            root = _missing_root(d)
            if root is not None and root not in trees:
                trees[root] = root.with_name(f".{root.name}.tmp-{tag}")
        return trees

    def _write_temps(
        self,
        opened: dict[Path, int],
        touched: set[Path],
        sync_each: bool,
        trees: dict[Path, Path],
    ) -> None:
        umask = _current_umask()
        tag = f".tmp-{os.urandom(5).hex()}"
        # directories first, in one thread (ensure_dir is not safe against a racing sibling)
        places: dict[Path, Path] = {}
        for d in self._dirs:
            where = _inside(d, trees)
            if where is not None:
                ensure_dir(where)
            else:
                for created in ensure_dir(d):
                    touched.add(created.parent)
                touched.add(d)
            places[d] = where or d
        groups = _split(list(self._dirs.items()), _writers(len(self)))

        def run(group: list[tuple[Path, dict[str, _Item]]]) -> None:
            for d, items in group:
                self._write_dir(d, places[d], items, opened, sync_each, umask, tag)

        if len(groups) == 1:
            run(groups[0])
            return
        # Creating a file is mostly kernel time (directory entries, inodes, journal), and
        # os.open/os.write release the GIL: two threads on disjoint directories use both cores.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(groups)) as pool:
            futures = [pool.submit(run, group) for group in groups]
        for future in futures:
            error = future.exception()
            if error is not None:
                raise error

    def _write_dir(
        self,
        d: Path,
        where: Path,
        items: dict[str, _Item],
        opened: dict[Path, int],
        sync_each: bool,
        umask: int,
        tag: str,
    ) -> None:
        """Write d's files into where (d itself, or its place in a hidden new tree)."""
        try:
            dfd = opened[d] = os.open(where, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as exc:
            raise io_error("open directory", d, exc) from exc
        in_tree = where != d
        for n, (name, it) in enumerate(items.items()):
            # in a new tree the file gets its final name: the tree is renamed, not the file
            temp = name if in_tree else f".{name}{tag}{n}"
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

    def _rename_all(
        self, opened: dict[Path, int], trees: dict[Path, Path], touched: set[Path]
    ) -> list[tuple[Path, bytes]]:
        conflicts: list[tuple[Path, bytes]] = []
        merge: list[Path] = []
        for root, hidden in trees.items():
            try:
                os.rename(hidden, root)
            except OSError as exc:
                if not os.path.isdir(root):
                    raise io_error("write", root, exc) from exc
                merge.append(root)  # another writer made it meanwhile: move files one by one
                continue
            for d, items in self._dirs.items():
                if _under(d, root):
                    self.committed.extend(d / name for name in items)
                    for it in items.values():
                        it.temp = None
        for d, items in self._dirs.items():
            if _inside(d, trees) is not None and not any(_under(d, r) for r in merge):
                continue
            if any(_under(d, r) for r in merge):
                touched.update(created.parent for created in ensure_dir(d))
                touched.add(d)
                src = _inside(d, trees)
                assert src is not None
                conflicts += self._move_in(src, d, items)
                continue
            dfd = opened[d]
            for name, it in items.items():
                temp, it.temp = it.temp, None
                assert temp is not None
                try:
                    if it.exclusive:
                        try:
                            os.link(temp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
                        except FileExistsError:
                            conflicts.append((d / name, it.data))
                            os.unlink(temp, dir_fd=dfd)
                            continue
                        os.unlink(temp, dir_fd=dfd)
                    else:
                        os.replace(temp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
                except OSError as exc:
                    it.temp = temp
                    raise io_error("write", d / name, exc) from exc
                self.committed.append(d / name)
        for root in merge:
            _rmtree(trees[root])
        return conflicts

    def _move_in(self, src: Path, d: Path, items: dict[str, _Item]) -> list[tuple[Path, bytes]]:
        """Move a tree's files into a directory that appeared meanwhile (link/replace rules)."""
        conflicts: list[tuple[Path, bytes]] = []
        for name, it in items.items():
            it.temp = None
            try:
                if it.exclusive:
                    try:
                        os.link(src / name, d / name)
                    except FileExistsError:
                        conflicts.append((d / name, it.data))
                        continue
                else:
                    os.replace(src / name, d / name)
            except OSError as exc:
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


PARALLEL_WRITE_MIN = 2000
"""Below this many files one writer thread is as fast as two."""


def _writers(files: int) -> int:
    if files < PARALLEL_WRITE_MIN:
        return 1
    try:
        return min(2, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return min(2, os.cpu_count() or 1)


def _split(
    dirs: list[tuple[Path, dict[str, _Item]]], parts: int
) -> list[list[tuple[Path, dict[str, _Item]]]]:
    """Directories dealt into `parts` groups of about equal file counts."""
    if parts <= 1:
        return [dirs]
    groups: list[list[tuple[Path, dict[str, _Item]]]] = [[] for _ in range(parts)]
    sizes = [0] * parts
    for d, items in sorted(dirs, key=lambda di: -len(di[1])):
        light = sizes.index(min(sizes))
        groups[light].append((d, items))
        sizes[light] += len(items)
    return [g for g in groups if g]


def _inside(d: Path, trees: dict[Path, Path]) -> Path | None:
    """Where d is built when it lies in a new tree (None: d is written in place)."""
    for root, temp in trees.items():
        if _under(d, root):
            return temp / d.relative_to(root)
    return None


def _under(d: Path, root: Path) -> bool:
    return d == root or root in d.parents


def _has_syncfs() -> bool:
    try:
        import ctypes
        import ctypes.util

        return hasattr(ctypes.CDLL(ctypes.util.find_library("c") or None), "syncfs")
    except OSError:
        return False


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _fsync_at(dir_fd: int, name: str | None) -> None:
    assert name is not None
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
