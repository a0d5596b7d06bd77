"""Stub vs nats-server with the same nats-py clients: 1 publisher -> 1 subscriber, 128-byte
payloads (msgs/s), and authenticated connects/s (user/password). Bounded: N messages, M connects.

Usage: .venv/bin/python bench/bench_stub.py [N_MESSAGES] [N_CONNECTS]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

import nats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.server_stub.harness import server  # noqa: E402

CONF = "authorization { users = [ { user: bench, password: pw } ] }\n"


async def pub_sub(url: str, n: int) -> float:
    sub_nc = await nats.connect(url, user="bench", password="pw")
    pub_nc = await nats.connect(url, user="bench", password="pw", pending_size=8 * 1024 * 1024)
    done = asyncio.Event()
    count = 0

    async def cb(msg) -> None:
        nonlocal count
        count += 1
        if count == n:
            done.set()

    await sub_nc.subscribe("bench.subject", cb=cb, pending_msgs_limit=n + 1)
    await sub_nc.flush()
    payload = b"x" * 128
    start = time.perf_counter()
    for _ in range(n):
        await pub_nc.publish("bench.subject", payload)
    await pub_nc.flush()
    await asyncio.wait_for(done.wait(), 120)
    elapsed = time.perf_counter() - start
    await pub_nc.close()
    await sub_nc.close()
    return n / elapsed


async def connects(url: str, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        nc = await nats.connect(url, user="bench", password="pw")
        await nc.close()
    return n / (time.perf_counter() - start)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    with tempfile.TemporaryDirectory() as tmp:
        conf = Path(tmp) / "bench.conf"
        conf.write_text(CONF)
        results: dict[str, tuple[float, float]] = {}
        for kind in ("nats-server", "stub"):
            with server(kind, conf) as url:
                rate = asyncio.run(pub_sub(url, n))
                cps = asyncio.run(connects(url, m))
            results[kind] = (rate, cps)
            print(f"{kind:12s} pub->sub {rate:10.0f} msgs/s   auth connects {cps:7.0f} /s")
        real, stub = results["nats-server"], results["stub"]
        print(f"stub/nats-server: msgs {stub[0] / real[0]:.2f}x, connects {stub[1] / real[1]:.2f}x")


if __name__ == "__main__":
    main()
