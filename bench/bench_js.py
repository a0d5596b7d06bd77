"""JetStream publishes with ack per second, server_stub vs nats-server, plain and encrypted.

One nats-py client publishes 128-byte payloads with `js.publish` (one at a time, waiting for
each ack) into a file stream. Run: `.venv/bin/python bench/bench_js.py [COUNT]`.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.natsserver import free_port, nats_server_binary, wait_for_info  # noqa: E402

KEY_ENV = "BENCH_JS_KEY"


def start_real(store: Path, cipher: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    conf = store / "server.conf"
    extra = f'\n  cipher: {cipher}\n  key: "{os.environ[KEY_ENV]}"' if cipher else ""
    conf.write_text(f'jetstream {{\n  store_dir: "{store / "js"}"{extra}\n}}\n')
    proc = subprocess.Popen(
        [nats_server_binary(), "-c", str(conf), "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_info(port, 10.0, proc)
    return proc, f"nats://127.0.0.1:{port}"


def start_stub(store: Path, cipher: str | None) -> tuple[subprocess.Popen[bytes], str]:
    args = [sys.executable, "-m", "server_stub.jetstream", str(store / "js")]
    if cipher:
        args += [cipher, KEY_ENV]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().decode().strip()


async def publish_rate(url: str, count: int) -> float:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(name="BENCH", subjects=["bench"])
    payload = os.urandom(128)
    for _ in range(200):  # warm-up
        await js.publish("bench", payload)
    start = time.perf_counter()
    for _ in range(count):
        await js.publish("bench", payload)
    elapsed = time.perf_counter() - start
    await nc.close()
    return count / elapsed


def measure(kind: str, cipher: str | None, count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        starter = start_stub if kind == "stub" else start_real
        proc, url = starter(Path(tmp), cipher)
        try:
            return asyncio.run(publish_rate(url, count))
        finally:
            proc.terminate()
            proc.wait(10)
            if proc.stdout is not None:
                proc.stdout.close()


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    os.environ.setdefault(KEY_ENV, "bench-key-not-secret")
    print(f"js.publish with ack, 128-byte payloads, {count} messages, file storage")
    for cipher in (None, "chachapoly", "aes"):
        real = measure("nats-server", cipher, count)
        stub = measure("stub", cipher, count)
        label = cipher or "plain"
        print(
            f"{label:>10}: nats-server {real:8.0f}/s   server_stub {stub:8.0f}/s   "
            f"ratio {stub / real:.2f}"
        )


if __name__ == "__main__":
    main()
