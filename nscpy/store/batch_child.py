"""Write-ahead in a forked child process: files are created beside the caller's Python work.

Theory of operation. Creating 30,000 small files is mostly kernel time, but a writer thread must
take the GIL back after every os.open, os.write and os.close; while the caller's thread signs
JWTs (Python) it gets it only when the caller lets go, so threads overlapped little. A child
forked at a batch's first write-ahead has an interpreter of its own: the parent sends it each
chunk of work (directory, temp name, mode, bytes) pickled over a pipe, a thread in the child
reads the pipe as fast as it fills (the parent never waits for the disk), and the child's main
thread creates the files. The parent closes the pipe and waits: the child exits 0, or 1 after
pickling its first error onto a second pipe.

Directories are created and opened in the parent (Writer.prepare) and reopened in the child the
same way (atomic.open_below: no link followed below a store root). The parent names every temp
file before sending it, so an abort removes them all once the child has exited. Fork is used
only where it is safe and pays: Linux (where syncfs makes batches build new trees) and a process
running no other thread.
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import threading
from pathlib import Path

from nscpy.store.atomic import io_error, open_below
from nscpy.store.errors import StoreError

__all__ = ["ChildWork", "WriterChild", "can_fork"]

ChildWork = list[tuple[str, str | None, list[tuple[str, int, bytes]]]]
"""[(directory to write in, store root above it or None, [(temp name, mode, data)])]."""

_HEADER = struct.Struct("<Q")
_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


def can_fork() -> bool:
    """True when a writer child may be forked: POSIX fork, and no other thread that a fork
    would copy in the middle of whatever it holds."""
    return hasattr(os, "fork") and threading.active_count() == 1


class WriterChild:
    """The forked writer: send() chunks, then finish() (raises the child's first error)."""

    def __init__(self) -> None:
        work_r, self._work_w = os.pipe()
        self._err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child process (its effects are tested)
            os.close(self._work_w)
            os.close(self._err_r)
            os._exit(_serve(work_r, err_w))
        os.close(work_r)
        os.close(err_w)
        self.pid = pid

    def send(self, work: ChildWork) -> None:
        """Queue a chunk; the child's reader takes it at once."""
        blob = pickle.dumps(work, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            _write_all(self._work_w, _HEADER.pack(len(blob)))
            _write_all(self._work_w, blob)
        except BrokenPipeError:
            self.finish()  # the child has stopped: raise its error
            raise StoreError("the batch writer process stopped early") from None

    def finish(self) -> None:
        """Close the pipe, wait for the child to write everything sent; raise its error."""
        if self._work_w >= 0:
            os.close(self._work_w)
            self._work_w = -1
        if self.pid == 0:
            return
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        report = _read_exact(self._err_r, None)
        os.close(self._err_r)
        if report:
            error = pickle.loads(report)  # written by our own child just now
            raise error if isinstance(error, StoreError) else StoreError(str(error))
        if status != 0:
            raise StoreError(f"the batch writer process failed (wait status {status})")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_exact(fd: int, size: int | None) -> bytes:
    """size bytes (fewer at end of file); size None: everything up to end of file."""
    parts: list[bytes] = []
    got = 0
    while size is None or got < size:
        part = os.read(fd, 1 << 20 if size is None else min(size - got, 1 << 20))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _serve(work_r: int, err_w: int) -> int:  # pragma: no cover - runs in the child
    chunks: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()

    def read() -> None:
        while True:
            head = _read_exact(work_r, _HEADER.size)
            if len(head) < _HEADER.size:
                chunks.put(None)
                return
            chunks.put(_read_exact(work_r, _HEADER.unpack(head)[0]))

    threading.Thread(target=read, daemon=True).start()
    umask = os.umask(0o077)
    os.umask(umask)
    opened: dict[str, int] = {}
    try:
        while (blob := chunks.get()) is not None:
            for place, root, files in pickle.loads(blob):
                dfd = opened.get(place)
                if dfd is None:
                    if root is not None:
                        dfd, _ = open_below(Path(root), Path(place))
                    else:
                        dfd = os.open(place, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                    opened[place] = dfd
                for temp, mode, data in files:
                    _create(dfd, place, temp, mode, data, umask)
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        error = exc if isinstance(exc, StoreError) else StoreError(f"batch writer: {exc!r}")
        _write_all(err_w, pickle.dumps(error))
        return 1
    return 0


def _create(dfd: int, place: str, temp: str, mode: int, data: bytes, umask: int) -> None:
    try:  # pragma: no cover - runs in the child
        fd = os.open(temp, _OPEN_FLAGS, mode, dir_fd=dfd)
    except OSError as exc:  # pragma: no cover
        raise io_error("write", Path(place, temp), exc) from exc
    try:  # pragma: no cover
        if mode & ~umask != mode:
            os.fchmod(fd, mode)  # the umask filtered O_CREAT's mode
        done = os.write(fd, data)
        if done < len(data):
            _write_all(fd, data[done:])
    except OSError as exc:  # pragma: no cover
        raise io_error("write", Path(place, temp), exc) from exc
    finally:  # pragma: no cover
        os.close(fd)
