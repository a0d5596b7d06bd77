"""The stub's polling selector: it polls only while traffic flows, never past a timer, and
runs a coroutine as asyncio.run does."""

from __future__ import annotations

import asyncio
import selectors
import socket
from collections.abc import Iterator

import pytest

from server_stub.__main__ import _parse_args
from server_stub.eventloop import PollingSelector, run


class RecordingSelector(PollingSelector):
    """Records the timeout of every poll of the platform selector."""

    def __init__(self, spin: float) -> None:
        super().__init__(spin)
        self.timeouts: list[float | None] = []

    def _poll(self, timeout: float | None) -> list[tuple[selectors.SelectorKey, int]]:
        self.timeouts.append(timeout)
        return super()._poll(timeout)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def _after_traffic(selector: PollingSelector, pair: tuple[socket.socket, socket.socket]) -> None:
    """Register the pair's reader and let one select return data: the selector is busy."""
    reader, writer = pair
    selector.register(reader, selectors.EVENT_READ)
    writer.send(b"x")
    assert len(selector.select(None)) == 1
    reader.recv(1)


def test_an_idle_selector_blocks_at_once(pair: tuple[socket.socket, socket.socket]) -> None:
    selector = RecordingSelector(spin=1.0)
    selector.register(pair[0], selectors.EVENT_READ)
    assert selector.select(0.01) == []
    assert selector.timeouts == [0.01]  # no spin: nothing had happened


def test_after_traffic_it_polls_before_blocking(pair: tuple[socket.socket, socket.socket]) -> None:
    selector = RecordingSelector(spin=0.002)
    _after_traffic(selector, pair)  # the next select spins first
    selector.timeouts.clear()
    assert selector.select(0.05) == []
    polls, last = selector.timeouts[:-1], selector.timeouts[-1]
    assert polls and set(polls) == {0}  # non-blocking polls, then one blocking select
    assert last is not None and 0 < last < 0.05  # with what was left of the timeout
    selector.timeouts.clear()
    assert selector.select(0.01) == []
    assert selector.timeouts == [0.01]  # that select found nothing: idle again, no spin


def test_a_spin_that_finds_nothing_backs_off(pair: tuple[socket.socket, socket.socket]) -> None:
    reader, writer = pair
    selector = RecordingSelector(spin=0.001)
    _after_traffic(selector, pair)

    def spins_then_traffic() -> bool:
        """One select that finds nothing (then data for the next one); True: it spun."""
        selector.timeouts.clear()
        assert selector.select(0.002) == []
        spun = 0 in selector.timeouts
        writer.send(b"x")
        assert len(selector.select(None)) == 1  # busy again
        reader.recv(1)
        return spun

    # the first empty spin skips the next busy select's spin, the next one two, then four
    assert [spins_then_traffic() for _ in range(8)] == [True, False, True, False, False, True,
                                                        False, False]  # fmt: skip
    writer.send(b"y")  # a spin that pays off resets the back-off
    selector.timeouts.clear()
    selector._skip = 0
    assert len(selector.select(None)) == 1
    reader.recv(1)
    assert selector._backoff == 0


def test_a_due_timer_is_never_delayed(pair: tuple[socket.socket, socket.socket]) -> None:
    selector = RecordingSelector(spin=10.0)
    _after_traffic(selector, pair)
    selector.timeouts.clear()
    assert selector.select(0) == []
    assert selector.timeouts == [0]  # a zero timeout (callbacks ready) is not spun on


def test_data_arriving_during_the_spin_is_returned(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    reader, writer = pair
    selector = PollingSelector(spin=5.0)
    _after_traffic(selector, pair)
    writer.send(b"y")
    ready = selector.select(None)
    assert [key.fileobj for key, _ in ready] == [reader]


def test_reads_left_counts_the_read_events_of_the_last_select(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    selector = PollingSelector(0.0)
    reader, writer = pair
    other_reader, other_writer = socket.socketpair()
    try:
        selector.register(reader, selectors.EVENT_READ)
        selector.register(other_reader, selectors.EVENT_READ)
        selector.register(writer, selectors.EVENT_WRITE)  # a write event is no read
        writer.send(b"x")
        other_writer.send(b"y")
        assert len(selector.select(0)) == 3 and selector.reads_left == 2
        reader.recv(1)
        other_reader.recv(1)
        assert len(selector.select(0)) == 1 and selector.reads_left == 0
    finally:
        selector.close()
        other_reader.close()
        other_writer.close()


@pytest.mark.parametrize("spin_us", [0, 100])
def test_run_runs_the_coroutine_and_closes_its_loop(spin_us: int) -> None:
    seen: list[asyncio.AbstractEventLoop] = []
    selectors_seen: list[object] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        seen.append(loop)
        selectors_seen.append(getattr(loop, "_selector", None))
        reader, writer = await asyncio.open_connection(*await _echo_server())
        writer.write(b"ping")
        assert await reader.readexactly(4) == b"ping"
        writer.close()

    run(main(), spin_us)
    assert seen and seen[0].is_closed()
    assert isinstance(selectors_seen[0], PollingSelector) == (spin_us > 0)


async def _echo_server() -> tuple[str, int]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readexactly(4))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    return host, port


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--uvloop", "--spin-us", "5"], "--spin-us needs asyncio's selector loop"),
        (["--spin-us", "-1"], "--spin-us must be 0 or more"),
    ],
)
def test_spin_flags_are_refused_when_they_cannot_apply(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_uvloop_alone_turns_the_spin_off() -> None:
    assert _parse_args(["--uvloop"]).spin_us is None
    assert _parse_args(["--uvloop", "--spin-us", "0"]).spin_us == 0
