"""Two server_stub checkouts and nats-server 2.15.1 in one run, with the Go client.

The figures of bench_stub_go.py move by up to a tenth from run to run with the machine; a change
is measured by running the stub before it and after it in the same run, alternated with
nats-server, fresh servers for each repetition. "before" is another checkout (for example
`git worktree add --detach /tmp/before REV`), "after" is this one.

Usage: .venv/bin/python bench/bench_stub_ab.py BEFORE_TREE [--reps 3] [--scale 0.5]
       [--only pubsub,queue,...] [--cipher chachapoly] [--sync-interval 2m] [--stub-args "..."]
Prints per mode the three medians, each stub's ratio to nats-server, after/before, and the CPU
each server spent per message in µs (the figure that moves least with the machine's load).
Bounded: every mode has a message count and the load generator a deadline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_stub_go as go  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before", type=Path, help="the other checkout's root")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--scale", type=float, default=0.5)
    parser.add_argument("--only", default="pubsub,fanout,queue,reqrep,jsasync")
    parser.add_argument("--cipher", default="")
    parser.add_argument("--sync-interval", default="2m")
    parser.add_argument("--stub-args", default="", help="extra arguments for both stubs")
    args = parser.parse_args()
    if not (args.before / "server_stub" / "__main__.py").exists():
        parser.error(f"{args.before} is not a checkout with server_stub/")
    wanted = args.only.split(",")
    modes = [m for m in go.MODES if m[1] in wanted]
    if not modes:
        parser.error(f"no mode among {args.only!r}; modes: {', '.join(m[1] for m in go.MODES)}")
    servers = {"nats-server": go.ROOT, "before": args.before.resolve(), "after": go.ROOT}
    # (label, server) -> [(rate, server CPU µs per message)]
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    print(f"load average at start {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        exe = go.build_loadgen(tmp)
        base, creds = go.make_store(tmp)
        for rep in range(args.reps):
            for name, root in servers.items():
                kind = "nats-server" if name == "nats-server" else "stub"
                conf = go.config(tmp, base, name, rep, args.cipher, args.sync_interval)
                proc, url = go.start(kind, conf, args.stub_args.split(), root)
                try:
                    for label, mode, count, extra in modes:
                        cpu_before = go.cpu_seconds(proc.pid)
                        n = max(1, int(count * args.scale))
                        rate, seconds, _ = go.run_loadgen(exe, url, creds, mode, n, extra)
                        cpu = go.cpu_seconds(proc.pid) - cpu_before
                        results.setdefault((label, name), []).append((rate, 1e6 * cpu / n))
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
    print(f"load average at end {os.getloadavg()[0]:.2f}; {args.reps} repetitions, medians")
    print(
        f"{'figure':30s} {'nats-server':>11s} {'before':>10s} {'after':>10s} {'before/n-s':>10s} "
        f"{'after/n-s':>10s} {'after/bef':>9s}   CPU µs/msg n-s|before|after"
    )
    for label, *_ in modes:
        rate = {s: statistics.median(r for r, _ in results[(label, s)]) for s in servers}
        cpu = "|".join(
            f"{statistics.median(c for _, c in results[(label, s)]):.1f}" for s in servers
        )
        peer = rate["nats-server"]
        print(
            f"{label:30s} {peer:11,.0f} {rate['before']:10,.0f} {rate['after']:10,.0f} "
            f"{rate['before'] / peer:9.2f}x {rate['after'] / peer:9.2f}x "
            f"{rate['after'] / rate['before']:9.2f}   {cpu}"
        )


if __name__ == "__main__":
    main()
