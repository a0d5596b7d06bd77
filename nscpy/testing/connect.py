"""`nats_connect`: nats-py clients for a test's users, each closed when the test ends.

A client belongs to the event loop it was made in. A test that runs its own loop
(`asyncio.run(...)`) ends it before fixture teardown, so every client also carries an async
generator whose `finally` closes it: asyncio.run (and pytest-asyncio) finalise async generators
before closing the loop. A client whose loop is still usable at teardown is closed there.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from nscpy.api import UsageProblem

if TYPE_CHECKING:
    import asyncio

    from nscpy.testing.entities import NatsUser
    from nscpy.testing.servers import NatsServer

__all__ = ["Connector"]

CLOSE_TIMEOUT = 5.0


async def _closer(client: Any) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await _close(client)


async def _close(client: Any, *, force: bool = False) -> None:
    import asyncio

    if force or not client.is_closed:
        try:
            await asyncio.wait_for(client.close(), CLOSE_TIMEOUT)
        except Exception:  # closing a client whose server died: nothing left to release
            pass


class Connector:
    """`await nats_connect(user, **opts)`: a connected nats-py client (no reconnects)."""

    def __init__(self, server: Callable[[], NatsServer | None]) -> None:
        self._server = server
        self._clients: list[tuple[Any, asyncio.AbstractEventLoop]] = []
        self._closers: list[AsyncIterator[None]] = []

    async def __call__(self, user: NatsUser, **opts: Any) -> Any:
        """Connect as user to the test's server (nats_server); opts go to nats.connect."""
        import asyncio

        from nats.aio.client import Client

        server = self._server()
        if server is None:
            raise UsageProblem("nats_connect needs the nats_server fixture: request it too")
        opts.setdefault("allow_reconnect", False)
        opts.setdefault("max_reconnect_attempts", 0)
        opts.setdefault("connect_timeout", 5)
        client = Client()
        try:
            await client.connect(
                servers=[server.url], user_credentials=str(user.creds_path), **opts
            )
        except BaseException:
            # a refused connect leaves nats-py's socket open; close it here, not in the GC
            await _close(client, force=True)
            raise
        closer = _closer(client)
        await closer.__anext__()
        self._closers.append(closer)
        self._clients.append((client, asyncio.get_running_loop()))
        return client

    def close_all(self) -> None:
        """Close every client whose loop can still run; the rest closed with their loop."""
        for client, loop in self._clients:
            if not client.is_closed and not loop.is_closed() and not loop.is_running():
                loop.run_until_complete(_close(client))
        self._clients.clear()
        self._closers.clear()
