"""SIGKILL the stub during a stream of acknowledged publishes, 20 times: no acked message lost."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import nats
import pytest

pytestmark = pytest.mark.e2e

ROUNDS = 20


def start_stub(store: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = dict(os.environ, JS_TEST_KEY="durability-key")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server_stub.jetstream.host",
            str(store),
            "chachapoly",
            "JS_TEST_KEY",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("nats://"):
        proc.kill()
        raise RuntimeError(f"stub did not start: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
    return proc, line


def kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


async def publish_until_killed(url: str, proc, acked: dict[int, bytes], round_no: int) -> None:
    nc = await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0)
    js = nc.jetstream()
    await js.add_stream(name="D", subjects=["d.>"])
    loop = asyncio.get_running_loop()
    loop.call_later(random.uniform(0.05, 0.25), proc.send_signal, signal.SIGKILL)
    try:
        for i in range(100_000):  # bounded; the kill ends it long before
            payload = b"r%d-m%d" % (round_no, i)
            ack = await js.publish("d.x", payload, timeout=1)
            acked[ack.seq] = payload
    except Exception:
        pass  # the kill: the last publish may or may not have been stored, but it was not acked
    finally:
        with_timeout = asyncio.wait_for(nc.close(), 2)
        try:
            await with_timeout
        except Exception:
            pass


async def check(url: str, acked: dict[int, bytes]) -> int:
    nc = await nats.connect(url)
    js = nc.jetstream()
    info = await js.stream_info("D")
    assert info.state.last_seq >= max(acked, default=0)
    for seq, payload in acked.items():
        assert (await js.get_msg("D", seq)).data == payload
    await nc.close()
    return info.state.messages


def test_acked_publishes_survive_sigkill(tmp_path: Path) -> None:
    random.seed(7)
    store = tmp_path / "store"
    acked: dict[int, bytes] = {}
    fresh: dict[int, bytes] = {}
    for round_no in range(ROUNDS):
        proc, url = start_stub(store)
        try:
            if fresh:  # this restart must hold everything the killed server acknowledged
                stored = asyncio.run(asyncio.wait_for(check(url, fresh), 30))
                assert stored >= len(acked)
            fresh = {}
            asyncio.run(asyncio.wait_for(publish_until_killed(url, proc, fresh, round_no), 30))
            acked.update(fresh)
        finally:
            kill(proc)
    proc, url = start_stub(store)
    try:
        # unacknowledged publishes may also have been stored, never fewer than acked
        assert asyncio.run(asyncio.wait_for(check(url, acked), 60)) >= len(acked)
    finally:
        kill(proc)
    assert len(acked) > ROUNDS * 5  # the test really published under the kills
