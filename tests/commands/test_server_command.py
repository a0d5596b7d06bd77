"""`nscpy server` starts the bundled server and prints where it listens."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e  # starts processes


def test_nscpy_server_prints_url_and_answers_info() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nscpy", "server", "-p", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("nats://127.0.0.1:")
        port = int(url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            assert conn.recv(4096).startswith(b"INFO {")
    finally:
        proc.terminate()
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
