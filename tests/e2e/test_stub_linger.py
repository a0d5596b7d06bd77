"""A client the stub refuses always reads the -ERR, even with its CONNECT still in flight.

Closing a socket that has unread input makes the kernel send a TCP reset, and a reset can
destroy the -ERR the client had not read yet. The stub half-closes and lingers instead.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.server_stub.harness import stub_server

pytestmark = pytest.mark.e2e


def test_refused_clients_read_the_error_every_time(tmp_path: Path) -> None:
    conf = tmp_path / "one.conf"
    conf.write_text("max_connections: 1\n")
    with stub_server(conf) as url:
        host, port = url.removeprefix("nats://").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as holder:
            assert holder.recv(4096).startswith(b"INFO ")
            for _ in range(20):
                with socket.create_connection((host, int(port)), timeout=5) as extra:
                    # send CONNECT before reading anything, as a client racing the refusal does
                    extra.sendall(b'CONNECT {"verbose":false}\r\nPING\r\n')
                    data = b""
                    while chunk := extra.recv(4096):
                        data += chunk
                    assert data.startswith(b"INFO ")
                    assert data.endswith(b"-ERR 'maximum connections exceeded'\r\n")
