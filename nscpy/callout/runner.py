"""Run a CalloutService until SIGTERM/SIGINT: the body of `nscpy callout serve`."""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
from collections.abc import Callable
from typing import Any

from nscpy.callout.messages import CALLOUT_SUBJECT
from nscpy.callout.service import Authorizer, CalloutService, ServiceKeys

__all__ = ["client_tls", "serve"]

log = logging.getLogger("nscpy.callout")


async def _connect(url: str, connect: dict[str, Any]) -> Any:
    """Connect once (a wrong URL or credential fails now), then reconnect forever."""
    import nats
    from nats.errors import Error as NatsError

    connected = False

    async def on_error(exc: Exception) -> None:
        if connected:  # a failed first connect is reported once, below
            log.warning("nats: %s", exc)  # one line; nats-py's default prints a traceback

    async def on_disconnected() -> None:
        log.warning("disconnected from the server; reconnecting")

    async def on_reconnected() -> None:
        log.warning("reconnected")

    try:
        nc = await nats.connect(
            servers=[url],
            name="nscpy-callout",
            connect_timeout=5,
            # nats-py retries the first connect as often as later reconnects: fail fast here
            max_reconnect_attempts=1,
            reconnect_time_wait=0,
            error_cb=on_error,
            disconnected_cb=on_disconnected,
            reconnected_cb=on_reconnected,
            **connect,
        )
    except (NatsError, OSError, asyncio.TimeoutError) as exc:
        reason = str(exc).removeprefix("nats: ") or type(exc).__name__
        raise ConnectionError(f"cannot connect to {url}: {reason}") from None
    connected = True
    # a running service rides out server restarts (nats-py reads this option on each attempt)
    nc.options["max_reconnect_attempts"] = -1
    nc.options["reconnect_time_wait"] = 2
    return nc


def client_tls(
    ca_file: str | None, cert_file: str | None, key_file: str | None
) -> ssl.SSLContext | None:
    """A client TLS context when a CA or a client certificate is given, else None."""
    if ca_file is None and cert_file is None:
        return None
    if (cert_file is None) != (key_file is None):
        raise ValueError("a client certificate needs both --client-cert and --client-key")
    ctx = ssl.create_default_context(cafile=ca_file)
    if cert_file is not None:
        ctx.load_cert_chain(cert_file, key_file)
    return ctx


async def serve(
    url: str,
    connect: dict[str, Any],
    service_keys: ServiceKeys,
    authorizer: Authorizer,
    *,
    queue: str,
    timeout: float,
    max_concurrency: int,
    ready: Callable[[str], None],
    stop: asyncio.Event | None = None,
) -> dict[str, int]:
    """Serve until `stop` is set (or SIGTERM/SIGINT); the outcome counters at the end."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    nc = await _connect(url, connect)
    service = CalloutService(
        nc, service_keys, authorizer, queue=queue, timeout=timeout, max_concurrency=max_concurrency
    )
    try:
        await service.start()
        ready(f"listening for auth requests on {CALLOUT_SUBJECT} (queue {queue}) at {url}")
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await service.stop()
        await nc.close()
    return dict(service.counters)
