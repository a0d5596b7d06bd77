"""The test suite's own nats-server starter: a port someone else holds is reported, or retried.

free_port can only say a port is free now; under parallel tests another process sometimes binds
it before our nats-server does. The starter must say so (PortTaken, with the server's log) and
pick a new port where it chose the port itself.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server_stub import harness
from tests.support import natsserver
from tests.support.natsserver import PortTaken, nats_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def taken() -> Iterator[int]:
    """A loopback port held by a listening socket of ours for the test's duration."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def first_pick(monkeypatch: pytest.MonkeyPatch, module: Any, port: int) -> None:
    """module.free_port answers `port` once (the race, made certain), then as before."""
    picks = iter([port])
    real_free_port = module.free_port
    monkeypatch.setattr(module, "free_port", lambda: next(picks, None) or real_free_port())


def test_a_given_port_that_is_taken_is_reported_with_the_log(tmp_path: Path, taken: int) -> None:
    with pytest.raises(PortTaken, match="address already in use"):
        with nats_server(tmp_path, "", taken):
            pass


def test_a_chosen_port_that_was_taken_is_chosen_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: int
) -> None:
    first_pick(monkeypatch, natsserver, taken)
    with nats_server(tmp_path, "") as server:
        assert server.port != taken
        assert server.proc.poll() is None


def test_the_differential_harness_chooses_again_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, taken: int
) -> None:
    conf = tmp_path / "empty.conf"
    conf.write_text("")
    first_pick(monkeypatch, harness, taken)
    with harness.real_server(conf) as url:
        assert not url.endswith(f":{taken}")
        assert harness.run(_pong(url), timeout=10) == b"PONG\r\n"


async def _pong(url: str) -> bytes:
    host, port = url.removeprefix("nats://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    await reader.readline()
    writer.write(b'CONNECT {"verbose":false}\r\nPING\r\n')
    line = await reader.readline()
    writer.close()
    return line
