"""nats-py quirks that tests must work around (nats-py 2.16)."""

from __future__ import annotations

from nats.aio.client import Client


async def flush_subscriptions(nc: Client) -> None:
    """Return once the server has processed every SUB (or PUB) `nc` has sent so far.

    nats-py's `flush()` writes its PING straight to the socket while earlier commands wait in
    the client's pending buffer for the flusher task, so the PONG can come back before the
    server has seen a SUB sent just before (seen in nats-server's trace: PING, PONG, then the
    SUB). A second flush's PING follows what the first one let the flusher write, so its PONG
    proves the SUB reached the server: only then may another connection publish to it.
    """
    await nc.flush()
    await nc.flush()
