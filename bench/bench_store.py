"""Store throughput: 10,000 small files through store.batch.Batch vs one atomic_write each, and a
10,000-user provisioning batch (seed + user JWT + creds = 30,000 files, one lock, one flush).

Run: .venv/bin/python bench/bench_store.py [--files N] [--dir DIR]
DIR defaults to the system temp dir (a real disk here, not tmpfs; pass --dir to choose).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from nscpy import keys
from nscpy.store import DataStore, KeyStore, resolve_paths
from nscpy.store.atomic import atomic_write
from nscpy.store.batch import Batch

JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ." + "x" * 500 + ".sig"


def bench_floor(root: Path, n: int) -> float:
    """The syscall floor: create, write and close n files; no temp, rename or flush."""
    d = root / "floor"
    d.mkdir()
    data = JWT.encode()
    start = time.perf_counter()
    for i in range(n):
        fd = os.open(d / f"u{i}.jwt", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, data)
        os.close(fd)
    return time.perf_counter() - start


def bench_batch(root: Path, n: int) -> float:
    start = time.perf_counter()
    with Batch() as b:
        for i in range(n):
            b.write(root / "batch" / f"u{i}.jwt", JWT)
    return time.perf_counter() - start


def bench_single(root: Path, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        atomic_write(root / "single" / f"u{i}.jwt", JWT)
    return time.perf_counter() - start


def bench_provision(root: Path, n: int) -> tuple[float, float, float]:
    """Seconds for key generation, staging (validation, paths) and commit (all I/O)."""
    paths = resolve_paths({}, root, all_dirs=str(root / "nsc"))
    ds, ks = DataStore(paths), KeyStore(paths)
    ds.create_operator("O", JWT)
    ds.create_account("O", "A", JWT)
    t0 = time.perf_counter()
    pairs = [keys.create_pair(keys.Prefix.USER) for _ in range(n)]
    creds = [
        f"-----BEGIN NATS USER JWT-----\n{JWT}\n------END NATS USER JWT------\n\n"
        f"-----BEGIN USER NKEY SEED-----\n{kp.seed}\n------END USER NKEY SEED------\n"
        for kp in pairs
    ]
    t1 = time.perf_counter()
    with ds.batch("O", ks) as b:
        for i, kp in enumerate(pairs):
            b.put_key(kp)
            b.write_user("A", f"u{i}", JWT)
            b.write_creds("A", f"u{i}", creds[i])
        t2 = time.perf_counter()
    t3 = time.perf_counter()
    assert len(ds.list_users("O", "A")) == n
    return t1 - t0, t2 - t1, t3 - t2


def _fs_type(path: Path) -> str:
    best, kind = "", "unknown"
    try:
        with open("/proc/mounts") as mounts:
            for line in mounts:
                _, mnt, fstype, *_ = line.split()
                if str(path).startswith(mnt) and len(mnt) > len(best):
                    best, kind = mnt, fstype
    except OSError:
        pass
    return kind


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--single", type=int, default=1_000, help="files for the per-file baseline")
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix=".bench-store-", dir=args.dir))
    try:
        n = args.files
        print(f"file system under {root}: {_fs_type(root)}")
        df = bench_floor(root, n)
        print(f"floor   {n:>6} files: {df:6.3f} s  {n / df:>9,.0f} files/s  (bare create+write)")
        dt = bench_batch(root, n)
        print(f"batch   {n:>6} files: {dt:6.3f} s  {n / dt:>9,.0f} files/s  (one flush pass)")
        m = args.single
        dt1 = bench_single(root, m)
        print(f"single  {m:>6} files: {dt1:6.3f} s  {m / dt1:>9,.0f} files/s  (fsync per file)")
        keygen, stage, commit = bench_provision(root, n)
        print(
            f"provision {n} users = {3 * n} files (seed+jwt+creds), one lock, one flush:\n"
            f"  stage  {stage:6.3f} s (seed checks, paths)\n"
            f"  commit {commit:6.3f} s  {3 * n / commit:>9,.0f} files/s\n"
            f"  (key generation {keygen:.3f} s, not store time)"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
