"""Abuse scenarios run the same way against nats-server and the stub.

tests/e2e/test_stub_limits.py asserts their verdicts (who was dropped, who still answers, what was
logged); bench/bench_abuse.py runs the full-size versions and prints the timings and RSS. Every
loop here is bounded and every wait has a timeout, so a server that misbehaves fails the caller
instead of hanging it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.natsserver import free_port, nats_server_binary, stop, wait_for_info

KINDS = ("nats-server", "stub")


@dataclass
class Served:
    """A server process, its URL and its log (stderr for both servers)."""

    kind: str
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.url.removeprefix("nats://").rsplit(":", 1)
        return host, int(port)

    def rss_mb(self) -> float:
        """Resident set size now, from /proc (Linux)."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def serve(kind: str, workdir: Path, config: str = "") -> Iterator[Served]:
    """nats-server or `python -m server_stub` with `config`, on a free 127.0.0.1 port."""
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / f"{kind}.conf"
    conf.write_text(config + "\n")
    log = workdir / f"{kind}.log"
    port = free_port()
    if kind == "nats-server":
        argv = [nats_server_binary(), "-c", str(conf), "-a", "127.0.0.1", "-p", str(port)]
    else:
        argv = [sys.executable, "-m", "server_stub", "-c", str(conf), "-p", str(port)]
    with open(log, "wb") as logf:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=logf, cwd=workdir)
    try:
        wait_for_info(port, proc=proc)
        yield Served(kind, proc, f"nats://127.0.0.1:{port}", log)
    finally:
        stop(proc)


async def connect_raw(
    served: Served, connect: bytes = b'CONNECT {"verbose":false}\r\n', rcvbuf: int | None = None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw protocol connection past INFO and one PING/PONG; `rcvbuf` shrinks its socket."""
    sock = socket.socket()
    if rcvbuf is not None:  # before connect, so the TCP window starts small
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, served.address)
    reader, writer = await asyncio.open_connection(sock=sock, limit=16 * 1024)
    await asyncio.wait_for(reader.readline(), 5)
    writer.write(connect + b"PING\r\n")
    await asyncio.wait_for(reader.readuntil(b"PONG\r\n"), 5)
    return reader, writer


async def ping_rtt(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> float:
    """Seconds from PING to PONG (bounded: 60 s)."""
    start = time.perf_counter()
    writer.write(b"PING\r\n")
    await asyncio.wait_for(reader.readuntil(b"PONG\r\n"), 60)
    return time.perf_counter() - start


@contextlib.asynccontextmanager
async def pinger(served: Served, interval: float = 0.02) -> AsyncIterator[list[float]]:
    """Another client PINGing in a loop while the block runs; yields the list of RTTs."""
    reader, writer = await connect_raw(served)
    rtts: list[float] = []
    done = asyncio.Event()

    async def loop() -> None:
        while not done.is_set():
            rtts.append(await ping_rtt(reader, writer))
            await asyncio.sleep(interval)

    task = asyncio.ensure_future(loop())
    try:
        yield rtts
    finally:
        done.set()
        try:
            await asyncio.wait_for(task, 70)
            rtts.append(await ping_rtt(reader, writer))  # and once more, after the storm
        except asyncio.TimeoutError:
            rtts.append(math.inf)  # a PING unanswered for 60 s: recorded, not raised
        writer.close()


@dataclass
class StormResult:
    """What a SUB storm did: how long the storm client waited, the pinger's RTTs, RSS."""

    storm_seconds: float
    ping_rtts: list[float]
    acked: bool  # the storm client's own PING after the SUBs was answered
    rss_mb: float


async def sub_storm(served: Served, subjects: int = 2_000, subs: int = 100_000) -> StormResult:
    """Publish to `subjects` distinct subjects (filling the match cache), then send `subs` SUBs
    in one write while another client PINGs."""
    reader, writer = await connect_raw(served)
    for start in range(0, subjects, 500):
        writer.write(b"".join(b"PUB storm.%d 0\r\n\r\n" % i for i in range(start, start + 500)))
        await ping_rtt(reader, writer)
    storm = b"".join(b"SUB storm.%d.x %d\r\n" % (i % 3_000, i + 1) for i in range(subs))
    async with pinger(served) as rtts:
        start = time.perf_counter()
        writer.write(storm + b"PING\r\n")
        try:
            await asyncio.wait_for(reader.readuntil(b"PONG\r\n"), 120)
            acked = True
        except (asyncio.TimeoutError, asyncio.IncompleteReadError):
            acked = False
        elapsed = time.perf_counter() - start
        rss = served.rss_mb()
        writer.close()  # and the storm client leaves with all its subscriptions
        await asyncio.sleep(1.0)
    return StormResult(elapsed, rtts, acked, rss)


@dataclass
class SlowResult:
    """What happened to subscribers that never read while a publisher flooded them."""

    dropped: int  # victims whose connection the server closed
    victims: int
    read_mb: float  # the most one victim read before its EOF: the backlog the server kept
    err_lines: list[bytes]  # -ERR lines the victims received (nats-server sends none)
    publisher_alive: bool
    ping_rtts: list[float]
    flood_seconds: float  # how long the publisher took to send everything
    peak_rss_mb: float
    rss_after_mb: float  # `wait` seconds after the flood, before any victim reads


async def _drain(reader: asyncio.StreamReader, timeout: float) -> tuple[bool, int, bytes]:
    """Read to EOF (True) or until `timeout` passes with the socket still open (False); returns
    how many bytes were read and their tail, enough to see a trailing -ERR."""
    tail = b""
    total = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    with contextlib.suppress(ConnectionError):
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return False, total, tail
            try:
                data = await asyncio.wait_for(reader.read(1 << 20), left)
            except asyncio.TimeoutError:
                return False, total, tail
            if not data:
                return True, total, tail
            total += len(data)
            tail = (tail + data)[-4096:]
    return True, total, tail


async def slow_consumers(
    served: Served,
    *,
    victims: int = 4,
    payload: int = 64 * 1024,
    per_victim: int = 80 * 1024 * 1024,
    wait: float = 15.0,
) -> SlowResult:
    """`victims` subscribers (small receive windows) never read while a publisher sends
    `per_victim` bytes to their subject; then each victim reads: did it hit EOF within `wait`?"""
    conns = [await connect_raw(served, rcvbuf=8192) for _ in range(victims)]
    for i, (reader, writer) in enumerate(conns):
        writer.write(b"SUB flood %d\r\nPING\r\n" % (i + 1))
        await asyncio.wait_for(reader.readuntil(b"PONG\r\n"), 5)
        # from here on the victim's StreamReader stops reading once 32 KB are buffered
    pub_reader, pub_writer = await connect_raw(served)
    body = b"PUB flood %d\r\n%s\r\n" % (payload, b"x" * payload)
    peak = 0.0
    start = time.perf_counter()
    async with pinger(served) as rtts:
        sent = 0
        while sent < per_victim:
            pub_writer.write(body * 16)
            sent += 16 * payload
            await pub_writer.drain()
            if sent % (4 * 1024 * 1024) < 16 * payload:
                peak = max(peak, served.rss_mb())
                await ping_rtt(pub_reader, pub_writer)  # keep in step with the server
        flood_seconds = time.perf_counter() - start
        publisher_alive = True
        try:
            await ping_rtt(pub_reader, pub_writer)
        except (asyncio.TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            publisher_alive = False
        peak = max(peak, served.rss_mb())
        # give the server its chance to drop them (write deadline) before anyone reads
        loop = asyncio.get_running_loop()
        settle = loop.time() + wait
        while loop.time() < settle:
            await asyncio.sleep(0.25)
            peak = max(peak, served.rss_mb())
        rss_after = served.rss_mb()
    dropped = 0
    most = 0
    errs: list[bytes] = []
    for reader, writer in conns:
        eof, total, tail = await _drain(reader, 3.0)
        dropped += eof
        most = max(most, total)
        errs += [line for line in tail.split(b"\r\n") if line.startswith(b"-ERR")]
        writer.close()
    pub_writer.close()
    return SlowResult(
        dropped, victims, most / 2**20, errs, publisher_alive, rtts, flood_seconds, peak, rss_after
    )
