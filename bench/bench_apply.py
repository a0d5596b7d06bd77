"""apply of N users (seed + JWT + creds each, synced) vs the same files written plainly, and vs a
loop of `nscpy add user` processes (M users, extrapolated to N). One run, figures side by side.

The machine is shared, so apply and the plain-file baseline run alternately --rounds times
(fresh directories each round) and the best round of each is compared.

Run: .venv/bin/python bench/bench_apply.py [--users 10000] [--loop 100] [--rounds 3] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nscpy.actions.apply import apply_spec
from nscpy.actions.workspace import Workspace
from nscpy.spec.parse import parse_spec
from nscpy.store.batch import _syncfs

SPEC = """
[operator]
name = "BENCH"
[accounts.FLEET]
signing_keys = [{{ role = "dev", allow_pub = ["dev.{{{{name()}}}}.>"], allow_sub = ["_INBOX.>"] }}]
[[accounts.FLEET.user_sets]]
name = "dev-{{n:05}}"
count = {count}
role = "dev"
"""


def bench_apply(root: Path, n: int, tag: str) -> tuple[float, Path]:
    home = root / f"apply-{tag}"
    ws = Workspace.open(all_dirs=str(home), env={"HOME": str(root)})
    spec = parse_spec([("bench.toml", SPEC.format(count=n))])
    start = time.perf_counter()
    result = apply_spec(ws, spec)
    elapsed = time.perf_counter() - start
    assert len(result.changes) == n + 2, len(result.changes)
    return elapsed, home


def bench_plain(root: Path, layout: Path, tag: str) -> float:
    """The same files (same directories, names and sizes) written plainly, then one flush.

    The flush is syncfs(2) of that file system, as apply's (os.sync would also flush every
    other file system's dirty pages on this shared machine and count them against the peer).
    """
    files = [p for p in layout.rglob("*") if p.is_file()]
    data = {p: p.read_bytes() for p in files}
    target = root / f"plain-{tag}"
    dirs = sorted({p.parent for p in files})
    _syncfs([root])
    start = time.perf_counter()
    for d in dirs:
        (target / d.relative_to(layout)).mkdir(parents=True, exist_ok=True)
    for p, content in data.items():
        fd = os.open(target / p.relative_to(layout), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, content)
        os.close(fd)
    _syncfs([root])
    return time.perf_counter() - start


def bench_loop(root: Path, m: int) -> float:
    home = str(root / "loop")
    nscpy = [sys.executable, "-m", "nscpy", "-H", home]
    subprocess.run([*nscpy, "add", "operator", "-n", "L"], check=True, capture_output=True)
    subprocess.run([*nscpy, "add", "account", "-n", "A"], check=True, capture_output=True)
    start = time.perf_counter()
    for i in range(m):
        subprocess.run(
            [*nscpy, "add", "user", "-a", "A", "-n", f"u{i}"], check=True, capture_output=True
        )
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--loop", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix=".bench-apply-", dir=args.dir))
    try:
        n = args.users
        applies: list[float] = []
        plains: list[float] = []
        layout: Path | None = None  # round 1's store: what the plain runs copy
        for r in range(args.rounds):
            # both start from a flushed file system (the last round's deletions are flushed
            # first, or the next syncfs would pay for them); the order alternates
            plain_first = layout is not None and r % 2 == 1
            if plain_first:
                assert layout is not None
                _syncfs([root])
                plains.append(bench_plain(root, layout, str(r)))
            _syncfs([root])
            dt, home = bench_apply(root, n, str(r))
            applies.append(dt)
            files = sum(1 for p in home.rglob("*") if p.is_file())
            if layout is None:
                layout = home
            if not plain_first:
                _syncfs([root])
                plains.append(bench_plain(root, layout, str(r)))
            shutil.rmtree(root / f"plain-{r}")
            if home != layout:
                shutil.rmtree(home)
            print(f"round {r + 1}: apply {dt:6.2f} s   plain {plains[-1]:6.2f} s", flush=True)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        # the forked batch writer (the loop's processes have not run yet)
        child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        dt_apply, dt_plain = min(applies), min(plains)
        dt_loop = bench_loop(root, args.loop) * n / args.loop
        print(
            f"apply      {n} users ({files} files, synced): {dt_apply:6.2f} s  "
            f"{n / dt_apply:8,.0f} users/s  peak RSS {rss_mb:.0f} MB "
            f"(writer child {child_mb:.0f} MB; best of {args.rounds})"
        )
        print(
            f"plain files, same layout, one sync:        {dt_plain:6.2f} s  "
            f"ratio apply/plain {dt_apply / dt_plain:.2f}x (target <= 1.5x)"
        )
        # on a shared machine a round's pair ran under about the same load: their median ratio
        ratios = sorted(a / p for a, p in zip(applies, plains, strict=True))
        print(f"median of the rounds' apply/plain ratios: {ratios[len(ratios) // 2]:.2f}x")
        print(
            f"per-process 'nscpy add user' loop ({args.loop} users, x{n // args.loop}): "
            f"{dt_loop:6.1f} s  apply is {dt_loop / dt_apply:.0f}x faster (target >= 100x)"
        )
        print(f"cores: {len(os.sched_getaffinity(0))}; load average {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
