"""SIGKILL the stub during a stream of acknowledged publishes, 20 times: no acked message lost."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
from pathlib import Path

import nats
import pytest

from server_stub.jetstream.__main__ import serve

pytestmark = pytest.mark.e2e

ROUNDS = 20


class Stub:
    """The stub in a forked child of this (already imported) process: no interpreter start-up.

    The child is a real process with its own files and sockets, so SIGKILL ends it exactly as
    it would end `python -m server_stub`; only the ~0.3 s of imports per restart is saved.
    """

    def __init__(self, store: Path) -> None:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: serve until killed, never return into pytest
            try:
                os.close(read_fd)
                # serve prints the URL; pytest's capture owns sys.stdout, so point it here
                sys.stdout = os.fdopen(write_fd, "w")
                os.environ["JS_TEST_KEY"] = "durability-key"
                asyncio.run(serve(str(store), "chachapoly", "JS_TEST_KEY"))
            finally:
                os._exit(1)
        os.close(write_fd)
        self.pid = pid
        with os.fdopen(read_fd) as out:
            self.url = out.readline().strip()
        if not self.url.startswith("nats://"):
            self.kill()
            raise RuntimeError(f"stub did not start: {self.url!r}")

    def sigkill(self) -> None:
        """Send SIGKILL (the child may be gone already)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL and reap."""
        self.sigkill()
        os.waitpid(self.pid, 0)


async def publish_until_killed(stub: Stub, acked: dict[int, bytes], round_no: int) -> None:
    gone = asyncio.Event()

    async def on_gone() -> None:
        gone.set()

    nc = await nats.connect(
        stub.url, allow_reconnect=False, max_reconnect_attempts=0, disconnected_cb=on_gone
    )
    js = nc.jetstream()
    await js.add_stream(name="D", subjects=["d.>"])

    async def publish() -> None:
        for i in range(100_000):  # bounded; the kill ends it long before
            payload = b"r%d-m%d" % (round_no, i)
            ack = await js.publish("d.x", payload, timeout=1)
            acked[ack.seq] = payload

    loop = asyncio.get_running_loop()
    loop.call_later(random.uniform(0.05, 0.25), stub.sigkill)
    task = asyncio.ensure_future(publish())
    waiter = asyncio.ensure_future(gone.wait())
    # stop as soon as the connection drops instead of waiting out the last publish's timeout:
    # a publish without an ack by then was never acknowledged
    await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
    for pending in (task, waiter):
        pending.cancel()
    with contextlib.suppress(BaseException):
        await task
    with contextlib.suppress(Exception):
        await asyncio.wait_for(nc.close(), 2)


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
        stub = Stub(store)
        try:
            if fresh:  # this restart must hold everything the killed server acknowledged
                stored = asyncio.run(asyncio.wait_for(check(stub.url, fresh), 30))
                assert stored >= len(acked)
            fresh = {}
            asyncio.run(asyncio.wait_for(publish_until_killed(stub, fresh, round_no), 30))
            acked.update(fresh)
        finally:
            stub.kill()
    stub = Stub(store)
    try:
        # unacknowledged publishes may also have been stored, never fewer than acked
        assert asyncio.run(asyncio.wait_for(check(stub.url, acked), 60)) >= len(acked)
    finally:
        stub.kill()
    assert len(acked) > ROUNDS * 5  # the test really published under the kills
