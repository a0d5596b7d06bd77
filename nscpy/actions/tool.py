"""tool pub/sub/req/reply: a small NATS client that connects as a stored user.

It exists so a person can try a user's permissions by hand. The server reports a permission
violation with an -ERR but keeps the connection open, so each operation flushes (a PING/PONG
round trip: the -ERR, if any, arrives first) and then looks at the client's last error. Loops
are bounded by a message count and/or a time limit; without either they run until interrupted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nscpy import resolver
from nscpy.actions.entities import load_operator, load_user
from nscpy.actions.errors import ActionError
from nscpy.actions.users import find_user
from nscpy.actions.workspace import Workspace

if TYPE_CHECKING:
    from nats.aio.client import Client

SLICE = 0.25
"""Seconds between checks of the connection while waiting for messages."""


class PermissionDenied(ActionError):
    """The server refused a publish or subscription (the connection stays open)."""


class ConnectionLost(ActionError):
    """The server closed the connection (e.g. the user was revoked or expired)."""


@dataclass
class ToolSpec:
    """Who connects (account, user) and where (URL, TLS)."""

    account: str | None = None
    user: str | None = None
    url: str | None = None
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls_first: bool = False
    operator: str | None = None


@dataclass(frozen=True)
class Received:
    """One message delivered to sub or reply."""

    number: int
    subject: str
    data: bytes
    reply: str = ""


def user_options(ws: Workspace, spec: ToolSpec) -> resolver.ConnectOptions:
    """ConnectOptions for the stored user: its JWT, its seed, --nats or the service URLs."""
    operator = ws.operator_name(spec.operator)
    account = ws.account_name(operator, spec.account)
    users = ws.store.list_users(operator, account)
    if spec.user is None and len(users) > 1:
        raise ActionError(
            f"account {account!r} has several users: pass -u USER ({', '.join(users)})"
        )
    user = find_user(ws, operator, account, spec.user)
    token = ws.store.read_user(operator, account, user).strip()
    seed = ws.keystore.get(load_user(ws, operator, account, user).subject)
    if seed is None:
        raise ActionError(
            f"the seed of user {user!r} is not in the keystore: import it with 'nscpy import keys'"
        )
    if spec.url:
        urls = [u.strip() for u in spec.url.split(",") if u.strip()]
    else:
        urls = list(load_operator(ws, operator).operator_service_urls)
    if not urls:
        raise ActionError(
            f"no server URL: pass --nats nats://HOST:PORT or add one to operator {operator!r} "
            "with 'nscpy edit operator --service-url nats://HOST:PORT'"
        )
    return resolver.options_from_env(
        urls,
        token,
        seed,
        ca_file=spec.ca_file,
        cert_file=spec.cert_file,
        key_file=spec.key_file,
        tls_first=spec.tls_first,
        name="nscpy_tool",
        env=ws.env,
    )


def _raise_new_error(nc: Client, before: BaseException | None) -> None:
    err = nc.last_error
    if nc.is_closed:
        reason = str(err).removeprefix("nats: ") if err is not None else "no reason given"
        raise ConnectionLost(f"the server closed the connection: {reason}")
    if err is not None and err is not before:
        text = str(err).removeprefix("nats: ")
        if "permissions violation" in text.lower():
            raise PermissionDenied(f"the server refused: {text}")
        raise ActionError(f"the server reported: {text}")


async def _checked_flush(nc: Client, before: BaseException | None) -> None:
    import asyncio

    from nats.errors import Error as NatsError

    # nats-py writes flush()'s PING straight to the socket, ahead of commands still in its
    # buffer; let the buffer drain first, or the PONG can beat the server's -ERR for them.
    for _ in range(1000):
        if nc.pending_data_size == 0 or not nc.is_connected:
            break
        await asyncio.sleep(0.001)
    try:
        await nc.flush(timeout=5)
    except (NatsError, asyncio.TimeoutError):
        pass  # a closed connection: the check below says why
    _raise_new_error(nc, before)


async def publish(opts: resolver.ConnectOptions, subject: str, payload: bytes) -> None:
    """Publish one message; PermissionDenied when the server refuses it."""
    nc = await resolver.connect(opts)
    try:
        await nc.publish(subject, payload)
        await _checked_flush(nc, None)
    finally:
        await nc.close()


async def request(
    opts: resolver.ConnectOptions, subject: str, payload: bytes, timeout: float
) -> bytes:
    """Send a request and return the first reply's payload."""
    from nats.errors import NoRespondersError
    from nats.errors import TimeoutError as NatsTimeout

    nc = await resolver.connect(opts)
    try:
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox, max_msgs=1)
        await nc.publish(subject, payload, reply=inbox)
        await _checked_flush(nc, None)
        try:
            msg = await sub.next_msg(timeout=timeout)
        except NatsTimeout:
            _raise_new_error(nc, None)
            raise ActionError(f"no reply on {subject!r} within {timeout:g}s") from None
        if msg.headers and msg.headers.get("Status") == "503":
            raise ActionError(f"no responders: nobody is subscribed to {subject!r}")
        return bytes(msg.data)
    except NoRespondersError:
        raise ActionError(f"no responders: nobody is subscribed to {subject!r}") from None
    finally:
        await nc.close()


async def serve(
    opts: resolver.ConnectOptions,
    subject: str,
    *,
    queue: str = "",
    answer: bool = False,
    response: bytes | None = None,
    max_messages: int | None = None,
    timeout: float | None = None,
    on_ready: Callable[[], None] = lambda: None,
    on_message: Callable[[Received], None] = lambda _m: None,
) -> int:
    """Subscribe (sub), or with `answer` reply to each request with `response` (None echoes it).

    Returns the number of messages handled.

    Stops after `max_messages`, or `timeout` seconds, whichever comes first.
    """
    from nats.errors import ConnectionClosedError
    from nats.errors import TimeoutError as NatsTimeout

    nc = await resolver.connect(opts)
    count = 0
    try:
        sub = await nc.subscribe(subject, queue=queue)
        await _checked_flush(nc, None)
        on_ready()
        deadline = None if timeout is None else time.monotonic() + timeout
        while max_messages is None or count < max_messages:
            wait = SLICE if deadline is None else min(SLICE, deadline - time.monotonic())
            if wait <= 0:
                break
            try:
                msg = await sub.next_msg(timeout=wait)
            except (NatsTimeout, ConnectionClosedError):
                _raise_new_error(nc, None)
                continue
            count += 1
            on_message(Received(count, msg.subject, bytes(msg.data), msg.reply or ""))
            if answer and msg.reply:
                await nc.publish(msg.reply, msg.data if response is None else response)
                await _checked_flush(nc, None)
        return count
    finally:
        if not nc.is_closed:
            await nc.close()
