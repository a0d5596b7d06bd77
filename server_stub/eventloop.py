"""The stub's event loop: asyncio's selector loop, polling briefly before it sleeps.

Why: on request/reply traffic a sleeping server thread must be woken by the kernel for every
hop, and on a virtual machine that wake-up costs tens of microseconds, more than the stub's own
work on the message. nats-server does not pay it: Go's scheduler keeps a thread spinning on the
network poller for a while before it parks. The stub does the same, bounded: after a select that
returned events (traffic is flowing), the next one polls without blocking for up to `spin`
seconds before it blocks. An idle server (the last select returned nothing, a timer woke it)
never spins, so the cost is CPU only while messages flow (see bench/bench_stub_go.py's CPU
column). A spin that ran out without data is not repeated at once: the next 1, 2, 4 ... 64 busy
selects block directly (reset by a spin that pays off), so a peer that answers slower than the
spin, or a machine with no core to spare, does not have the stub burning one in vain.
`python -m server_stub --spin-us 0` turns it off.
"""

from __future__ import annotations

import asyncio
import selectors
import sys
import time
from collections.abc import Coroutine
from typing import Any

DEFAULT_SPIN_US = 100
_MAX_BACKOFF = 64  # busy selects without a spin after spins that found nothing


class PollingSelector(selectors.DefaultSelector):
    """The platform's default selector, polling for up to `spin` seconds after busy selects."""

    def __init__(self, spin: float) -> None:
        super().__init__()
        self.spin = spin
        self._busy = False  # the last select returned events
        self._backoff = 0  # busy selects to skip after the next spin that finds nothing
        self._skip = 0  # busy selects still to block without spinning

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        """As the default selector's, but poll first while traffic flows (see the module)."""
        poll = self._poll
        if not self._busy or (timeout is not None and timeout <= 0):
            ready = poll(timeout)
        elif self._skip:
            self._skip -= 1
            ready = poll(timeout)
        else:
            spin = self.spin if timeout is None else min(self.spin, timeout)
            clock = time.perf_counter
            start = clock()
            ready = poll(0)
            while not ready and clock() - start < spin:
                ready = poll(0)
            if ready:
                self._backoff = 0
            else:
                self._backoff = self._skip = min(_MAX_BACKOFF, max(1, 2 * self._backoff))
                left = None if timeout is None else max(0.0, timeout - (clock() - start))
                ready = poll(left)
        self._busy = bool(ready)
        return ready

    def _poll(self, timeout: float | None) -> list[tuple[selectors.SelectorKey, int]]:
        return super().select(timeout)


def callbacks_waiting(loop: asyncio.AbstractEventLoop) -> bool:
    """True when callbacks wait behind the running one in `loop`'s ready queue (asyncio's loop
    runs the reads of every socket one select found ready, one after another); False when there
    are none, or for a loop that does not say (uvloop)."""
    return bool(getattr(loop, "_ready", None))


def run(main: Coroutine[Any, Any, None], spin_us: int) -> None:
    """asyncio.run(main) on a selector loop that polls for `spin_us` microseconds before it
    sleeps (0: asyncio's own loop, unchanged)."""
    if spin_us <= 0:
        asyncio.run(main)
        return

    def new_loop() -> asyncio.AbstractEventLoop:
        return asyncio.SelectorEventLoop(PollingSelector(spin_us / 1e6))

    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=new_loop) as runner:
            runner.run(main)
        return
    loop = new_loop()  # Python 3.10: no Runner; the same steps asyncio.run takes
    try:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(main)
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
