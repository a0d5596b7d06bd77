"""Where the stub's time goes under one load: py-spy samples it while bench/loadgen drives it.

The stub runs as bench/bench_stub_go.py runs it (operator mode, creds, JetStream on file storage
with sync_interval 2m); py-spy (a sampling profiler: `pip install py-spy`, not a dependency of
nscpy) records it at 500 Hz without slowing it much, and the script prints the busiest lines
(self time) and functions (inclusive), as % of the samples taken while the stub was running.

Usage: .venv/bin/python bench/profile_stub.py MODE [COUNT] [--clients N] [--top 25]
       [--cipher chachapoly]
       (MODE: pubsub, pub, fanout, queue, reqrep, connect, jssync, jsasync)
Bounded: the load generator sends COUNT messages and has a deadline.
"""

from __future__ import annotations

import argparse
import collections
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_stub_go import build_loadgen, config, make_store, run_loadgen, start  # noqa: E402


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        sys.exit("profile_stub: py-spy is not installed (pip install py-spy)")
    return found


def tops(raw: str, top: int) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """(samples, busiest functions by self samples, by inclusive samples) from py-spy's raw
    (collapsed-stack) output: one `function (file:line);... count` line per distinct stack.
    The trunk (the event loop and start-up frames, in nearly every sample) is left out of the
    inclusive list; a blank frame is one py-spy could not name (native code, the collector)."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(frame) for frame in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    branches = [(f, n) for f, n in inclusive.most_common() if n < 0.85 * total]
    return total, own.most_common(top), branches[:top]


def _function(frame: str) -> str:
    """`read_pubs (server_stub/protocol.py:219)` -> `read_pubs (server_stub/protocol.py)`."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit(':', 1)[0]})" if where else name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode")
    parser.add_argument("count", nargs="?", type=int, default=500_000)
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--cipher", default="", help="JetStream cipher (chachapoly, aes)")
    args = parser.parse_args()
    spy = py_spy()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        exe = build_loadgen(tmp)
        base, creds = make_store(tmp)
        proc, url = start("stub", config(tmp, base, "stub", 0, args.cipher, "2m"), [])
        out = tmp / "samples.txt"
        record = [spy, "record", "-p", str(proc.pid), "-r", "500", "-f", "raw", "-o", str(out)]
        sampler = subprocess.Popen(
            [*record, "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            time.sleep(1.0)  # py-spy attached
            extra = ["-clients", str(args.clients)]
            rate, *_ = run_loadgen(exe, url, creds, args.mode, args.count, extra)
        finally:
            sampler.send_signal(signal.SIGINT)
            sampler.wait(timeout=30)
            proc.terminate()
            proc.wait(timeout=20)
        total, own, inclusive = tops(out.read_text(), args.top)
    print(f"{args.mode}: {rate:,.0f}/s; {total} samples of the stub")
    print("self (the function running):")
    for frame, count in own:
        print(f"  {100 * count / total:5.1f}%  {frame}")
    print("inclusive (the function or a callee running):")
    for frame, count in inclusive:
        print(f"  {100 * count / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
