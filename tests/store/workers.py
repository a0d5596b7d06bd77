"""Worker processes for the store's concurrency and crash tests: python -m tests.store.workers."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time
from pathlib import Path

from nscpy import keys
from nscpy.store import DataStore, KeyStore, atomic, resolve_paths
from nscpy.store.batch import Batch

HEADER = b"GEN:"


def payload(gen: int, size: int) -> bytes:
    """Self-checking content: header, generation, filler, sha256 of everything before it."""
    body = HEADER + str(gen).encode() + b":" + bytes([65 + gen % 26]) * size
    return body + b"|" + hashlib.sha256(body).hexdigest().encode()


def is_whole(data: bytes) -> bool:
    """True if data is one complete payload() (never a torn mix of two)."""
    body, sep, digest = data.rpartition(b"|")
    return (
        bool(sep)
        and data.startswith(HEADER)
        and hashlib.sha256(body).hexdigest().encode() == digest
    )


def rmw(root: str, worker: int, count: int) -> None:
    """Append `count` distinct entries to a JSON list in an account JWT file, and add users."""
    paths = resolve_paths({}, Path(root), all_dirs=root)
    store = DataStore(paths, lock_timeout=60)
    ks = KeyStore(paths)
    target = paths.account_jwt("O", "A")
    for i in range(count):

        def add(old: str | None, entry: str = f"w{worker}-{i}") -> str:
            items = json.loads(old) if old else []
            time.sleep(0.0005)  # widen the race window: a lost update would show
            return json.dumps([*items, entry])

        store.read_modify_write(target, add)
        user = keys.create_pair(keys.Prefix.USER)
        ks.put(user.seed)
        store.create_user("O", "A", f"u{worker}-{i}", f"jwt-of.{user.public_key}")


def writer(target_dir: str, mode: str) -> None:
    """Rewrite files forever (until killed) with self-checking payloads, single or batched."""
    base = Path(target_dir)
    gen = 1
    while True:
        if mode == "batch":
            with Batch() as b:
                for n in range(40):
                    b.write(base / f"f{n}.jwt", payload(gen, 2_000 + 37 * n))
        else:
            for n in range(5):
                atomic.atomic_write(base / f"f{n}.jwt", payload(gen, 200_000))
        gen += 1


def die_before_rename(target: str) -> None:
    """Write a temp for target, then SIGKILL ourselves exactly where rename would happen."""

    def killed(*_: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    os.replace = killed  # type: ignore[assignment]
    atomic.atomic_write(Path(target), payload(2, 50_000))


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    if cmd == "rmw":
        rmw(args[0], int(args[1]), int(args[2]))
    elif cmd == "writer":
        writer(args[0], args[1])
    elif cmd == "die-before-rename":
        die_before_rename(args[0])
    else:
        raise SystemExit(f"unknown worker command {cmd!r}")
