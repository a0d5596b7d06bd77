"""Requests to a nats-server resolver over the system account: update, list, delete, pack, lookup.

Theory of operation: every server of a cluster that runs a full resolver answers a
`$SYS.REQ.CLAIMS.*` request on its own, so a request cannot stop at the first reply. We subscribe
to a fresh inbox, publish, and collect every reply until the timeout (or until a caller-known
number of replies arrived, or a stop condition such as PACK's empty terminator). Pushing many
accounts publishes them all at once, each to its own reply subject under one inbox, so N accounts
cost one timeout window rather than N.

nats-py is imported inside the functions: the CLI imports this module's names at start-up, and
nats-py costs tens of milliseconds to import.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from nscpy.resolver.errors import AuthorizationFailed, NoResponders, NoServerReachable
from nscpy.resolver.options import ConnectOptions
from nscpy.resolver.replies import parse_reply
from nscpy.resolver.reports import DeleteReport, ListReport, PushReport, account_push

if TYPE_CHECKING:
    from nats.aio.client import Client

__all__ = [
    "UPDATE",
    "LIST",
    "DELETE",
    "PACK",
    "account_update_subject",
    "account_lookup_subject",
    "connect",
    "multi_request",
    "push_accounts",
    "push_accounts_async",
    "list_accounts",
    "list_accounts_async",
    "delete_accounts",
    "delete_accounts_async",
    "pack",
    "pack_async",
    "lookup",
    "lookup_async",
]

UPDATE = "$SYS.REQ.CLAIMS.UPDATE"
LIST = "$SYS.REQ.CLAIMS.LIST"
DELETE = "$SYS.REQ.CLAIMS.DELETE"
PACK = "$SYS.REQ.CLAIMS.PACK"

MAX_REPLIES = 10_000
"""Upper bound on replies collected per request, so a misbehaving peer cannot grow memory."""


def account_update_subject(account: str) -> str:
    """The per-account update subject (memory resolver too; the account must equal the JWT sub)."""
    return f"$SYS.REQ.ACCOUNT.{account}.CLAIMS.UPDATE"


def account_lookup_subject(account: str) -> str:
    """The subject a server answers with the raw stored JWT of one account (empty when absent)."""
    return f"$SYS.REQ.ACCOUNT.{account}.CLAIMS.LOOKUP"


def _reason(exc: BaseException) -> str:
    import asyncio

    text = str(exc).strip()
    if isinstance(exc, asyncio.TimeoutError) or type(exc).__name__ == "TimeoutError":
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return text or type(exc).__name__


def _failure(url: str, exc: BaseException) -> str:
    """One line saying why `url` could not be used; raise AuthorizationFailed for a refusal."""
    import ssl

    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"{url}: TLS certificate verification failed ({exc.verify_message}); "
            "pass the server's CA (ca_file, --ca-cert or NATS_CA)"
        )
    if "authorization violation" in str(exc).lower():
        raise AuthorizationFailed(
            f"nats-server at {url} refused the user: Authorization Violation "
            "(is the user's account known to the server and the JWT unexpired?)"
        ) from None
    return f"{url}: {_reason(exc)}"


async def connect(opts: ConnectOptions) -> Client:
    """Open one connection, trying each URL in order; raise NoServerReachable when none works."""
    import asyncio

    from nats.aio.client import Client as NATS
    from nats.errors import Error as NatsError
    from nats.errors import NoServersError

    tls = opts.ssl_context()
    failures: list[str] = []
    for url in opts.servers:
        reported: list[BaseException] = []

        async def on_error(exc: Exception, sink: list[BaseException] = reported) -> None:
            sink.append(exc)

        nc = NATS()
        try:
            kwargs: dict[str, Any] = {}
            if tls is not None:
                kwargs["tls"] = tls
            await nc.connect(
                servers=[url],
                name=opts.name,
                user_jwt_cb=opts.jwt_callback(),
                signature_cb=opts.signature_callback(),
                connect_timeout=max(1, round(opts.timeout)),
                allow_reconnect=False,
                # nats-py retries a refused server forever unless this is positive; with 1 and
                # no wait it tries twice at once and then gives up with NoServersError.
                max_reconnect_attempts=1,
                reconnect_time_wait=0,
                tls_handshake_first=opts.tls_first,
                error_cb=on_error,
                **kwargs,
            )
            return nc
        except (NatsError, OSError, asyncio.TimeoutError) as exc:
            # An empty pool hides the cause; the last error nats-py reported is the reason.
            cause = reported[-1] if isinstance(exc, NoServersError) and reported else exc
            failures.append(_failure(url, cause))
        finally:
            # nats-py leaves the socket open when the handshake fails.
            if not nc.is_connected:
                await _abandon(nc)
    raise NoServerReachable("no nats-server reachable at " + "; ".join(failures))


async def _abandon(nc: Client) -> None:
    import asyncio

    # Client.close() can wait forever on a client whose TLS upgrade failed, so close the
    # transport directly, and only wait a moment for it.
    names = ("_flusher_task", "_reading_task", "_ping_interval_task")
    for task in (getattr(nc, name, None) for name in names):
        if isinstance(task, asyncio.Task) and not task.done():
            task.cancel()
    transport = getattr(nc, "_transport", None)
    if transport is None:
        return
    try:
        transport.close()
        await asyncio.wait_for(transport.wait_closed(), 0.25)
    except Exception:  # noqa: BLE001 - a half-open socket may fail to close any way; nothing to do
        pass


def _is_no_responders(msg: Any) -> bool:
    headers = getattr(msg, "headers", None)
    return isinstance(headers, dict) and headers.get("Status") == "503"


async def _scatter(
    nc: Client,
    requests: Sequence[tuple[str, bytes]],
    timeout: float,
    stop: Callable[[list[list[bytes]]], bool] | None = None,
) -> list[list[bytes]]:
    """Publish each request with its own reply subject; collect payloads per request."""
    from nats.errors import TimeoutError as NatsTimeout

    inbox = nc.new_inbox()
    sub = await nc.subscribe(f"{inbox}.*")
    collected: list[list[bytes]] = [[] for _ in requests]
    total = 0
    try:
        for i, (subject, payload) in enumerate(requests):
            await nc.publish(subject, payload, reply=f"{inbox}.{i}")
        await nc.flush(timeout=max(1, round(timeout)))
        deadline = time.monotonic() + timeout
        while total < MAX_REPLIES:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                msg = await sub.next_msg(timeout=remaining)
            except NatsTimeout:
                break
            index = int(msg.subject.rsplit(".", 1)[1])
            if _is_no_responders(msg):
                raise NoResponders(
                    f"nothing answers on {requests[index][0]}: the server needs a full nats "
                    "resolver (or, for per-account subjects, a loaded account) and the user must "
                    "be in the system account"
                )
            collected[index].append(bytes(msg.data))
            total += 1
            if stop is not None and stop(collected):
                break
    finally:
        await sub.unsubscribe()
    return collected


async def multi_request(
    nc: Client,
    subject: str,
    payload: bytes,
    timeout: float,
    expect: int | None = None,
) -> list[bytes]:
    """Every reply to one request until `timeout` (or until `expect` replies arrived)."""

    def enough(got: list[list[bytes]]) -> bool:
        return expect is not None and len(got[0]) >= expect

    return (await _scatter(nc, [(subject, payload)], timeout, enough))[0]


def _run(coro: Any) -> Any:
    import asyncio

    return asyncio.run(coro)


async def push_accounts_async(
    opts: ConnectOptions,
    jwts: dict[str, str],
    timeout: float = 1.0,
    expect: int | None = None,
    per_account_subject: bool = False,
) -> PushReport:
    """Push each account JWT (keyed by account public key) and report every server's reply."""
    accounts = sorted(jwts)
    if per_account_subject:
        requests = [(account_update_subject(a), jwts[a].encode()) for a in accounts]
    else:
        requests = [(UPDATE, jwts[a].encode()) for a in accounts]

    def enough(got: list[list[bytes]]) -> bool:
        return expect is not None and all(len(r) >= expect for r in got)

    nc = await connect(opts)
    try:
        raw = await _scatter(nc, requests, timeout, enough)
    finally:
        await nc.close()
    pushes = [
        account_push(account, [parse_reply(p) for p in payloads])
        for account, payloads in zip(accounts, raw, strict=True)
    ]
    return PushReport(accounts=tuple(pushes), expected=expect)


def push_accounts(
    opts: ConnectOptions,
    jwts: dict[str, str],
    timeout: float = 1.0,
    expect: int | None = None,
    per_account_subject: bool = False,
) -> PushReport:
    """Blocking push_accounts_async: push account JWTs, one report line per server per account."""
    report: PushReport = _run(push_accounts_async(opts, jwts, timeout, expect, per_account_subject))
    return report


async def list_accounts_async(
    opts: ConnectOptions, timeout: float = 1.0, expect: int | None = None
) -> ListReport:
    """Ask every server which accounts it stores ($SYS.REQ.CLAIMS.LIST)."""
    nc = await connect(opts)
    try:
        raw = await multi_request(nc, LIST, b"", timeout, expect)
    finally:
        await nc.close()
    return ListReport(replies=tuple(parse_reply(p) for p in raw), expected=expect)


def list_accounts(
    opts: ConnectOptions, timeout: float = 1.0, expect: int | None = None
) -> ListReport:
    """Blocking list_accounts_async."""
    report: ListReport = _run(list_accounts_async(opts, timeout, expect))
    return report


async def delete_accounts_async(
    opts: ConnectOptions, delete_jwt: str, timeout: float = 1.0, expect: int | None = None
) -> DeleteReport:
    """Send a signed delete request (see `delete_request_jwt`) to $SYS.REQ.CLAIMS.DELETE."""
    nc = await connect(opts)
    try:
        raw = await multi_request(nc, DELETE, delete_jwt.encode(), timeout, expect)
    finally:
        await nc.close()
    return DeleteReport(replies=tuple(parse_reply(p) for p in raw), expected=expect)


def delete_accounts(
    opts: ConnectOptions, delete_jwt: str, timeout: float = 1.0, expect: int | None = None
) -> DeleteReport:
    """Blocking delete_accounts_async."""
    report: DeleteReport = _run(delete_accounts_async(opts, delete_jwt, timeout, expect))
    return report


def _parse_pack_entry(payload: bytes) -> tuple[str, str]:
    from nscpy.resolver.errors import BadReply

    text = payload.decode("utf-8", "replace")
    account, sep, token = text.partition("|")
    if not sep or not account or not token:
        raise BadReply(f"pack message must be '<account>|<jwt>', got {text[:40]!r}")
    return account, token


async def pack_async(opts: ConnectOptions, timeout: float = 1.0) -> dict[str, str]:
    """Every account JWT the server stores ($SYS.REQ.CLAIMS.PACK), keyed by account public key."""

    def terminated(got: list[list[bytes]]) -> bool:
        # Each server ends its stream with an empty message; the first complete stream suffices.
        return bool(got[0]) and got[0][-1] == b""

    nc = await connect(opts)
    try:
        raw = await _scatter(nc, [(PACK, b"")], timeout, terminated)
    finally:
        await nc.close()
    return dict(_parse_pack_entry(p) for p in raw[0] if p)


def pack(opts: ConnectOptions, timeout: float = 1.0) -> dict[str, str]:
    """Blocking pack_async."""
    result: dict[str, str] = _run(pack_async(opts, timeout))
    return result


async def lookup_async(opts: ConnectOptions, account: str, timeout: float = 1.0) -> str | None:
    """One account's JWT as the server stores it, or None when no server has it."""

    def found(got: list[list[bytes]]) -> bool:
        return any(got[0])

    nc = await connect(opts)
    try:
        raw = await _scatter(nc, [(account_lookup_subject(account), b"")], timeout, found)
    finally:
        await nc.close()
    for payload in raw[0]:
        if payload:
            return payload.decode()
    return None


def lookup(opts: ConnectOptions, account: str, timeout: float = 1.0) -> str | None:
    """Blocking lookup_async."""
    result: str | None = _run(lookup_async(opts, account, timeout))
    return result
