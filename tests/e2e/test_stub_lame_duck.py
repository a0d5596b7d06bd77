"""SIGUSR2: lame-duck mode on both servers: INFO with "ldm": true, new clients refused, the
existing ones closed after the grace period, then a clean exit (status 0)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import nats
import pytest

from tests.server_stub.harness import NATS_SERVER, _wait_info, free_port, run

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

CONF = 'lame_duck_duration: "30s"\nlame_duck_grace_period: "0.5s"\n'


def _start(kind: str, conf: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    if kind == "nats-server":
        argv = [str(NATS_SERVER), "-c", str(conf), "-a", "127.0.0.1", "-p", str(port)]
    else:
        argv = [sys.executable, "-m", "server_stub", "-c", str(conf), "-p", str(port)]
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=conf.parent
    )
    import time

    _wait_info(port, time.monotonic() + 10)
    return proc, f"nats://127.0.0.1:{port}"


async def _raw_client(url: str, protocol: int = 1):
    """CONNECT and PING twice; returns once both PONGs (and the INFO after the first) are read."""
    host, port = url.removeprefix("nats://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    await reader.readline()  # INFO
    connect = json.dumps({"verbose": False, "protocol": protocol}).encode()
    writer.write(b"CONNECT " + connect + b"\r\nPING\r\nPING\r\n")
    pongs = 0
    while pongs < 2:
        line = await asyncio.wait_for(reader.readline(), 5)
        assert line, "closed"
        pongs += line == b"PONG\r\n"
    return reader, writer


async def _read_to_eof(reader: asyncio.StreamReader) -> list[bytes]:
    """The lines up to EOF, without the server's keep-alive PINGs."""
    lines = []
    while line := await asyncio.wait_for(reader.readline(), 10):
        if line != b"PING\r\n":
            lines.append(line)
    return lines


async def _lame_duck(proc: subprocess.Popen[bytes], url: str) -> dict[str, object]:
    out: dict[str, object] = {}
    lame = asyncio.Event()
    closed = asyncio.Event()

    async def on_lame_duck() -> None:
        lame.set()

    async def on_closed() -> None:
        closed.set()

    nc = await nats.connect(
        url, allow_reconnect=False, lame_duck_mode_cb=on_lame_duck, closed_cb=on_closed
    )
    reader, writer = await _raw_client(url)
    old_reader, old_writer = await _raw_client(url, protocol=0)  # takes no async INFO
    proc.send_signal(signal.SIGUSR2)
    lines = await _read_to_eof(reader)
    out["after_signal"] = [
        json.loads(line[5:]).get("ldm") if line.startswith(b"INFO ") else line for line in lines
    ]
    out["protocol_0_after_signal"] = await _read_to_eof(old_reader)
    await asyncio.wait_for(lame.wait(), 10)
    await asyncio.wait_for(closed.wait(), 10)
    out["nats_py_lame_duck_cb"] = lame.is_set()
    try:
        await _raw_client(url)
        out["new_client"] = "accepted"
    except (OSError, AssertionError):
        out["new_client"] = "refused"
    writer.close()
    old_writer.close()
    await nc.close()
    out["exit"] = await asyncio.to_thread(proc.wait, 15)
    return out


@pytest.mark.parametrize("kind", ["nats-server", "stub"])
def test_sigusr2_lame_duck_then_clean_exit(tmp_path: Path, kind: str) -> None:
    conf = tmp_path / "ldm.conf"
    conf.write_text(CONF)
    proc, url = _start(kind, conf)
    try:
        outcome = run(_lame_duck(proc, url), timeout=40)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert outcome == {
        "after_signal": [True],
        "protocol_0_after_signal": [],
        "nats_py_lame_duck_cb": True,
        "new_client": "refused",
        "exit": 0,
    }


def test_sigusr2_without_clients_exits_at_once(tmp_path: Path) -> None:
    conf = tmp_path / "ldm.conf"
    conf.write_text('lame_duck_grace_period: "10s"\n')  # not waited for: nobody to tell
    proc, _ = _start("stub", conf)
    proc.send_signal(signal.SIGUSR2)
    assert proc.wait(5) == 0
