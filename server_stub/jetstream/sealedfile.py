"""Small sealed files beside the segments (`meta.key`, `meta.inf`, `o.dat`, `msgs/index`).

Each is replaced atomically: written to `<name>.tmp` (created with O_EXCL|O_NOFOLLOW, mode
0600 whatever the umask, so a planted file or symlink is never written through), fsynced when
asked, renamed over the target. Directories are created 0700 level by level (nscpy.store's
`ensure_dir`). A failed write raises StoreWriteFailed, which the API answers as 503 / 10077.
"""

from __future__ import annotations

import errno
import os
import zlib
from collections.abc import Callable
from pathlib import Path

from nscpy.store.atomic import ensure_dir, fsync_dir
from nscpy.store.errors import StoreError
from server_stub.jetstream.crypto import OpenFailed, Sealer
from server_stub.jetstream.errors import StoreCorrupted, StoreWriteFailed, WrongKey

FILE_MODE = 0o600
_FILE_MAGIC = b"NJF1"
_KEY_CHECK = b"nscpy jetstream key check v1"
# The seam fault-injection tests replace (a full disk); everything else is the real path.
write_fd: Callable[[int, bytes], int] = os.write
_TMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def make_dirs(directory: Path) -> None:
    """mkdir -p with 0700 for every created level; StoreWriteFailed when it cannot."""
    try:
        ensure_dir(directory)
    except (OSError, StoreError) as exc:
        raise StoreWriteFailed(str(exc)) from exc


def write_sealed_file(path: Path, sealer: Sealer, data: bytes, *, sync: bool = True) -> None:
    """Atomically replace `path` with `data` sealed (label = file name), fsynced when asked."""
    sealed = sealer.seal(data, path.name.encode())
    blob = _FILE_MAGIC + zlib.crc32(sealed).to_bytes(4, "big") + sealed
    tmp = path.with_name(path.name + ".tmp")
    try:
        make_dirs(path.parent)
        tmp.unlink(missing_ok=True)  # a leftover of a crash, or something planted: never reused
        fd = os.open(tmp, _TMP_FLAGS, FILE_MODE)
        try:
            view = memoryview(blob)
            while view:
                written = write_fd(fd, bytes(view))
                if written <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                view = view[written:]
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        if sync:
            fsync_dir(path.parent)
    except (OSError, StoreError) as exc:
        tmp.unlink(missing_ok=True)
        reason = getattr(exc, "strerror", None) or str(exc)
        raise StoreWriteFailed(f"cannot write {path}: {reason}") from exc


def read_sealed_file(path: Path, sealer: Sealer) -> bytes:
    """The data of a file written by write_sealed_file; StoreCorrupted/WrongKey on failure."""
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise StoreCorrupted(f"{path}: cannot be read: {exc.strerror}") from exc
    sealed = blob[8:]
    if blob[:4] != _FILE_MAGIC or zlib.crc32(sealed).to_bytes(4, "big") != blob[4:8]:
        raise StoreCorrupted(f"{path}: damaged file (checksum mismatch)")
    try:
        return sealer.open(sealed, path.name.encode())
    except OpenFailed:
        raise WrongKey(f"{path}: cannot be opened with the configured jetstream key") from None


def write_key_check(directory: Path, sealer: Sealer) -> None:
    """(Re)write `meta.key`: the cipher name and a known value, sealed with the stream key."""
    write_sealed_file(directory / "meta.key", sealer, sealer.name.encode() + b"\n" + _KEY_CHECK)


def check_key(directory: Path, sealer: Sealer, what: str, *, create: bool = True) -> None:
    """Create `meta.key` on first use (when `create`); refuse a different cipher or key.

    Raises WrongKey for another key or cipher, StoreCorrupted for a damaged or missing file.
    """
    path = directory / "meta.key"
    if not path.exists():
        if not create:
            raise StoreCorrupted(f"{path}: missing")
        write_key_check(directory, sealer)
        return
    blob = path.read_bytes()
    sealed = blob[8:]
    if blob[:4] != _FILE_MAGIC or zlib.crc32(sealed).to_bytes(4, "big") != blob[4:8]:
        raise StoreCorrupted(f"{path}: damaged key check file")
    # the cipher name is inside the sealed part, so try to open before blaming the key
    try:
        plain = sealer.open(sealed, path.name.encode())
    except OpenFailed:
        raise WrongKey(
            f"{what} was stored with a different jetstream key or cipher than the one "
            f"configured (cipher {sealer.name}); start with the original key"
        ) from None
    name, _, check = plain.partition(b"\n")
    if check != _KEY_CHECK or name.decode() != sealer.name:
        raise WrongKey(f"{what} was stored with cipher {name.decode()!r}, configured {sealer.name}")
