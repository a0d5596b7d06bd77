"""Glue between the engine and server_stub's asyncio Server (the only module that knows it).

`attach(server, block)` builds a JetStream for a started server (a `server_stub.hooks.
ServiceHost`: server_stub.services calls it) from its parsed `jetstream {}` block, enables the
accounts the server knows, and returns the engine (the server keeps it and calls `close()` on
shutdown). Account limits come from the account JWT in operator mode and are unlimited for
config-file and no-auth accounts. Nothing here imports server_stub.server.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from server_stub.headers import build_headers
from server_stub.hooks import ServiceHost
from server_stub.jetstream import advisories
from server_stub.jetstream.config import (
    JsLimits,
    limits_from_claims,
    names_store_dir,
    parse_config,
)
from server_stub.jetstream.engine import Clock, JetStream

log = logging.getLogger(__name__)

GLOBAL_ACCOUNT = "$G"


class ServerBus:
    """The server's MessageBus as JetStream publishes, plus `deliver_as`, which pull
    consumers need.

    nats-server's JetStream sends its messages without a reply (acks, API replies, statuses)
    with no reply field at all (`MSG <inbox> <sid> <size>`), where its system account's
    answers have an empty one (Server.publish's `no_reply`). It delivers a pulled message to
    the request's inbox subscription while showing the stream subject in MSG, so nats-py's
    `msg.subject` is `orders.1`, not the inbox.
    """

    def __init__(self, server: ServiceHost) -> None:
        self._server = server
        self.subscribe = server.subscribe
        self.subscribe_raw = server.subscribe_raw
        self.unsubscribe = server.unsubscribe
        self.publish = functools.partial(server.publish, no_reply=None)
        self.publish_replies = functools.partial(server.publish_replies, no_reply=None)
        self._turns: dict[tuple[str, str, str], int] = {}

    @property
    def server_name(self) -> str:
        """The server's name as nats-server's events show it (its id when none is set)."""
        return self._server.name

    def requester(self) -> dict[str, Any] | None:
        """The ClientInfo of the client whose input is being handled (who sent the request a
        service answers now), as nats-server's advisories show it; None outside a read."""
        client = self._server.reading
        if client is None:
            return None
        identity = client.identity
        claims = identity.claims if identity is not None else None
        user = ""
        if identity is not None:
            user = identity.public_key or (
                "[REDACTED]" if identity.name == "token" else identity.name
            )
        account = client.account.name if client.account is not None else "N/A"
        issuer = ""  # nkey and JWT users: the key that signed the user JWT, else the account
        if identity is not None and identity.public_key:
            signing_key = claims.issuer if claims is not None and claims.issuer_account else ""
            issuer = signing_key or account
        session = client.session
        return advisories.client_info(
            start=int(client.start * 1_000_000_000),
            host=client.host,
            cid=client.cid,
            account=account,
            user=user,
            name=session.name,
            lang=session.lang,
            version=session.client_version,
            rtt=int((client.rtt or 0) * 1_000_000_000),
            server=self._server.name,
            issuer_key=issuer,
            name_tag=claims.name if claims is not None else "",  # the user JWT's name and tags
            tags=claims.tags if claims is not None else (),
            client_type="websocket" if client.websocket else "nats",
        )

    def has_interest(self, account: str, subject: str) -> bool:
        """True when a client subscription in `account` matches `subject`."""
        result = self._server.router.account(account).sublist.match(subject)
        return bool(result.plain or result.queues)

    def deliver_as(
        self,
        account: str,
        to: str,
        subject: str,
        payload: bytes,
        reply: str | None,
        headers: dict[str, str] | None,
    ) -> None:
        """Deliver to the subscriptions of `to`, with `subject` on the wire."""
        block = build_headers(headers) if headers else None
        router = self._server.router
        result = router.account(account).sublist.match(to)
        plain = type(result)(plain=result.plain, queues={})
        router._fan_out(plain, subject, reply or None, block, payload, None)
        for queue, members in result.queues.items():
            # round robin over the group (nats-server picks at random): an even spread
            key = (account, to, queue)
            turn = self._turns.get(key, 0)
            self._turns[key] = turn + 1
            start = turn % len(members)
            for sub in members[start:] + members[:start]:  # the next one if a member refuses
                if sub.owner.deliver(sub, subject, reply or None, block, payload):
                    router.count_delivery(sub)
                    break


def account_limits_for(server: ServiceHost) -> Callable[[str], JsLimits | None]:
    """The `account_limits` callable for a server: JWT limits, else unlimited."""
    operator_mode = server.options.operator is not None

    def limits(name: str) -> JsLimits | None:
        account = server.router.accounts.get(name)
        claims = account.claims if account is not None else None
        if claims is not None:
            return limits_from_claims(claims.limits.to_json_dict())
        if operator_mode:
            return None
        specs = server.options.accounts
        if specs:  # config accounts: JetStream only where the account's block enables it
            spec = next((s for s in specs if s.name == name), None)
            enabled: JsLimits | None = spec.jetstream if spec is not None else None
            return enabled
        return None if name == server.options.system_account else JsLimits()

    return limits


def default_store_dir(environ: Mapping[str, str] | None = None) -> Path:
    """nats-server's store_dir when the jetstream block names none: <temp dir>/nats.

    Go's os.TempDir on Unix is $TMPDIR when set and non-empty, else /tmp (Python's gettempdir
    also tries other variables and directories, so it is not used); JetStream's files go under
    <store_dir>/jetstream, as nats-server's do.
    """
    env = os.environ if environ is None else environ
    return Path(env.get("TMPDIR") or "/tmp") / "nats"


def attach(
    server: ServiceHost, block: Mapping[str, Any], *, clock: Clock = time.time_ns, **engine: Any
) -> JetStream:
    """Start JetStream on a started Server; returns the engine (stop it with `close()`)."""
    config = parse_config(block, default_dir=default_store_dir())
    if not names_store_dir(block):
        log.warning("Temporary storage directory used, data could be lost on system reboot")
    limits = account_limits_for(server)
    js = JetStream(config, ServerBus(server), limits, clock, **engine)
    js.start()
    names = set(server.router.accounts) | {GLOBAL_ACCOUNT}
    for name in sorted(names):
        if name not in js.accounts:
            js.enable_account(name, limits(name))
    # accounts resolved, updated or deleted later (operator mode)
    server.account_hooks.append(lambda name: js.enable_account(name, limits(name)))
    return js
