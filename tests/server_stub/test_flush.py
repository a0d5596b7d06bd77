"""Output is flushed once per client per loop turn: the reads one select found ready are all
handled before the clients they delivered to are written (Inbound._process, flush_dirty), and a
read that is alone in its turn is flushed at once. The server runs in the test's own loop, so
the test decides which reads share a turn."""

from __future__ import annotations

import asyncio
from typing import Any

from server_stub.client import Client
from server_stub.eventloop import callbacks_waiting
from server_stub.options import ServerOptions
from server_stub.server import Server

QUIET = b'CONNECT {"verbose":false}\r\n'


def test_callbacks_waiting_sees_the_loop_s_ready_queue() -> None:
    async def main() -> list[bool]:
        loop = asyncio.get_running_loop()
        seen = [callbacks_waiting(loop)]
        loop.call_soon(lambda: None)
        seen.append(callbacks_waiting(loop))
        await asyncio.sleep(0)
        seen.append(callbacks_waiting(loop))
        return seen

    assert asyncio.run(main()) == [False, True, False]


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


def test_reads_in_one_turn_are_flushed_once_per_client() -> None:
    writes, received = asyncio.run(_scenario(4, together=True))
    assert sorted(received.split(b"MSG a 1 1\r\n")[1:]) == [b"0\r\n", b"1\r\n", b"2\r\n", b"3\r\n"]
    assert len(writes) == 1 and writes[0] == received


def test_a_read_alone_in_its_turn_is_flushed_at_once() -> None:
    writes, received = asyncio.run(_scenario(3, together=False))
    assert writes == [b"MSG a 1 1\r\n0\r\n", b"MSG a 1 1\r\n1\r\n", b"MSG a 1 1\r\n2\r\n"]
    assert b"".join(writes) == received
