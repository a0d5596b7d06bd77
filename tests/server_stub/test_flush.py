"""Output is flushed once per client per loop turn: the reads one select found ready are all
handled before the clients they delivered to are written (Inbound._process, flush_dirty), and a
read that is alone in its turn is flushed at once, as are all of them on a loop other than the
stub's polling one. The server runs in the test's own loop, so the test decides which reads
share a turn."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server_stub.client import Client
from server_stub.eventloop import run
from server_stub.options import ServerOptions
from server_stub.server import Server

QUIET = b'CONNECT {"verbose":false}\r\n'


async def _open(port: int, hello: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert (await reader.readline()).startswith(b"INFO ")
    writer.write(hello + b"PING\r\n")
    assert await reader.readline() == b"PONG\r\n"
    return reader, writer


def _count_writes(client: Client) -> list[bytes]:
    """The bytes of each transport.write to `client` from now on."""
    writes: list[bytes] = []
    transport: Any = client.transport
    original = transport.write

    def write(data: bytes) -> None:
        writes.append(bytes(data))
        original(data)

    transport.write = write
    return writes


async def _scenario(publishers: int, together: bool) -> tuple[list[bytes], bytes]:
    server = Server(ServerOptions(host="127.0.0.1", port=0))
    await server.start()
    try:
        sub_r, sub_w = await _open(server.port, QUIET + b"SUB a 1\r\n")
        (subscriber,) = server.clients.values()
        pubs = [await _open(server.port, QUIET) for _ in range(publishers)]
        writes = _count_writes(subscriber)
        for number, (_, writer) in enumerate(pubs):
            writer.write(b"PUB a 1\r\n%d\r\n" % number)  # sent now: the socket buffer is empty
            if not together:
                await asyncio.sleep(0.05)  # the server reads it alone, in a turn of its own
        await asyncio.sleep(0.05)
        received = b""
        while received.count(b"MSG") < publishers:
            received += await asyncio.wait_for(sub_r.read(4096), 5.0)
        for _, writer in [(sub_r, sub_w), *pubs]:
            writer.close()
        return writes, received
    finally:
        await server.stop()


def _scenario_result(publishers: int, together: bool, spin_us: int) -> tuple[list[bytes], bytes]:
    """_scenario on the stub's PollingLoop (spin_us > 0) or on asyncio's own loop (0)."""
    result: list[tuple[list[bytes], bytes]] = []

    async def main() -> None:
        result.append(await _scenario(publishers, together))

    run(main(), spin_us)
    return result[0]


def test_reads_in_one_turn_are_flushed_once_per_client() -> None:
    writes, received = _scenario_result(4, together=True, spin_us=100)
    assert sorted(received.split(b"MSG a 1 1\r\n")[1:]) == [b"0\r\n", b"1\r\n", b"2\r\n", b"3\r\n"]
    assert len(writes) == 1 and writes[0] == received


@pytest.mark.parametrize("spin_us", [0, 100])
def test_a_read_alone_in_its_turn_is_flushed_at_once(spin_us: int) -> None:
    writes, received = _scenario_result(3, together=False, spin_us=spin_us)
    assert writes == [b"MSG a 1 1\r\n0\r\n", b"MSG a 1 1\r\n1\r\n", b"MSG a 1 1\r\n2\r\n"]
    assert b"".join(writes) == received


def test_on_another_loop_every_read_is_flushed_at_once() -> None:
    writes, received = _scenario_result(4, together=True, spin_us=0)
    assert len(writes) == 4 and b"".join(writes) == received
