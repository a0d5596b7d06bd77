"""Stub vs nats-server under abuse, in the same run: another client's PING latency and RSS.

1. SUB storm: one client publishes to 2,000 distinct subjects (filling the match cache), then
   sends 100,000 SUBs in one write; another client PINGs throughout.
2. Slow consumers: 4 subscribers that never read while a publisher sends them 80 MB each
   (64 KB messages) with the default limits (max_pending 64 MB, write_deadline 10 s); another
   client PINGs throughout. 15 s later the victims read: "dropped" counts EOFs, "read" is the
   most one victim got before its EOF (what the kernel held, plus any backlog the server kept),
   and RSS +15s shows whether the server let go of the backlog.

Usage: .venv/bin/python bench/bench_abuse.py [SUBS] [MB_PER_VICTIM]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.stress import KINDS, serve, slow_consumers, sub_storm  # noqa: E402


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> None:
    subs = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    per_victim_mb = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    print(f"SUB storm: 2,000 subjects published, then {subs:,} SUBs in one write")
    print(f"{'server':12s} {'storm':>10s} {'PING max':>11s} {'PING p50':>11s} {'RSS after':>10s}")
    for kind in KINDS:
        with tempfile.TemporaryDirectory() as tmp, serve(kind, Path(tmp)) as served:
            storm = asyncio.run(sub_storm(served, subjects=2_000, subs=subs))
        assert storm.acked, f"{kind}: the storm client's PING was not answered"
        print(
            f"{kind:12s} {storm.storm_seconds:9.2f}s {_ms(max(storm.ping_rtts))}"
            f" {_ms(statistics.median(storm.ping_rtts))} {storm.rss_mb:8.0f}MB"
        )
    print()
    print(f"Slow consumers: 4 that never read, {per_victim_mb} MB published to each")
    print(
        f"{'server':12s} {'dropped':>8s} {'read':>7s} {'-ERRs':>6s} {'flood':>7s} {'PING max':>11s}"
        f" {'PING p50':>11s} {'RSS peak':>9s} {'RSS +15s':>9s}"
    )
    for kind in KINDS:
        with tempfile.TemporaryDirectory() as tmp, serve(kind, Path(tmp)) as served:
            slow = asyncio.run(slow_consumers(served, per_victim=per_victim_mb << 20, wait=15.0))
        print(
            f"{kind:12s} {slow.dropped:>5d}/{slow.victims} {slow.read_mb:5.1f}MB"
            f" {len(slow.err_lines):>6d}"
            f" {slow.flood_seconds:6.1f}s {_ms(max(slow.ping_rtts))}"
            f" {_ms(statistics.median(slow.ping_rtts))}"
            f" {slow.peak_rss_mb:7.0f}MB {slow.rss_after_mb:7.0f}MB"
        )


if __name__ == "__main__":
    main()
