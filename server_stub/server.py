"""The asyncio NATS server: listeners, lifecycle, the MessageBus for internal services, INFO.

Module map: server.py binds and runs. A connection is a Client (client.py: its operations)
over inbound.py (transport callbacks, parse loop, timers) and outbound.py (queue, flush, slow
consumers); its rules live in the sans-I/O session.py. protocol.py parses, encoding.py encodes,
router.py routes. services.py starts the internal services (config accounts, operator mode's
resolver, JetStream), which see the server only through hooks.py.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import ssl
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from nscpy import keys
from server_stub.auth import Authenticator, NoAuth
from server_stub.bus import Handler, InternalClient, RawHandler
from server_stub.callout_request import ServerSide
from server_stub.client import Client
from server_stub.encoding import encode_msg, wire
from server_stub.headers import build_headers
from server_stub.hooks import OperatorHooks, Service
from server_stub.inbound import Inbound
from server_stub.inbox import INBOX_PREFIX
from server_stub.options import ServerOptions
from server_stub.outbound import Outbound
from server_stub.router import Account, Router, Subscription
from server_stub.sublist import MatchResult
from server_stub.version import API_LEVEL, PROTO, VERSION

log = logging.getLogger("server_stub")


# asyncio's own read size (selector transports' max_size): the per-read batching stays.
READ_BUFFER_SIZE = 256 * 1024


class Server:
    """A NATS server on 127.0.0.1; also the MessageBus for internal services."""

    def __init__(self, options: ServerOptions, authenticator: Authenticator | None = None) -> None:
        self.options = options
        self.auth: Authenticator = authenticator or options.authorization or NoAuth()
        # operator mode's hooks (the resolver at start-up, account limits at connect)
        self.operator: OperatorHooks | None = options.operator
        self.router = Router()
        self.clients: dict[int, Inbound] = {}
        self.server_key = keys.create_pair(keys.Prefix.SERVER)  # signs auth callout requests
        self.server_id = self.server_key.public_key
        self.xkey_pair = keys.create_curve_pair()  # seals auth callout requests
        self.xkey = self.xkey_pair.public_key
        self.inbox_prefix = os.urandom(6).hex()
        self.name = options.server_name or self.server_id
        self.port = 0
        self.internal = InternalClient()
        self._sids = itertools.count(1)
        self._raw_subs: dict[int, Subscription] = {}  # subscribe_raw's sids
        self.cids = itertools.count(1)  # client ids, as nats-server's cid
        self._server: asyncio.AbstractServer | None = None
        self.ssl_context: ssl.SSLContext | None = None
        self.lame_duck_mode = False
        # monitoring counters (varz): connections ever accepted, messages of closed clients
        self.total_connections = 0
        self.closed_stats = [0, 0, 0, 0]  # in_msgs, in_bytes, out_msgs, out_bytes
        self.listeners: list[asyncio.AbstractServer] = []  # monitoring, websocket
        self.http_port = 0  # the bound monitoring port (0: none)
        self.websocket_port = 0  # the bound websocket port (0: none)
        self.http_req_stats: dict[str, int] = {}
        self.monitor_listener: asyncio.AbstractServer | None = None
        self.services: list[Service] = []  # internal services (resolver, JetStream) kept alive here
        # called with an account name whenever operator mode loads, updates or deletes it
        self.account_hooks: list[Callable[[str], None]] = []
        self.started = time.time()
        self.slow_consumers = 0  # as nats-server's varz slow_consumers
        # While a client's input is handled (`reading` is that client), the clients it
        # delivered to wait here and are flushed once at the end: one write per client per
        # read, not one loop turn later.
        self.reading: Inbound | None = None
        self.dirty: list[Outbound] = []
        # Every plain-socket read lands here (Inbound.get_buffer): one loop thread, and each
        # read is copied out before the next, so one buffer serves every connection.
        self.read_buffer = memoryview(bytearray(READ_BUFFER_SIZE))

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind and start accepting; `port` holds the bound port afterwards."""
        loop = asyncio.get_running_loop()
        if self.options.tls is not None:
            from server_stub.tls import server_context

            self.ssl_context = server_context(self.options.tls)
        handshake_first = self.options.tls is not None and self.options.tls.handshake_first
        self._server = await loop.create_server(
            lambda: Client(self),
            self.options.host,
            self.options.port,
            ssl=self.ssl_context if handshake_first else None,
            ssl_handshake_timeout=self.options.tls.timeout if handshake_first else None,  # type: ignore[union-attr]
        )
        self.port = self._server.sockets[0].getsockname()[1]
        from server_stub.listeners import start_listeners
        from server_stub.services import start_services

        await start_listeners(self)
        start_services(self, self.operator)

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        """Run callback after `delay` seconds (timers for services that do not own asyncio)."""
        return asyncio.get_running_loop().call_later(max(0.0, delay), callback)

    def account_changed(self, name: str) -> None:
        """Tell the services (JetStream) that an account's JWT was loaded, replaced or deleted."""
        for hook in self.account_hooks:
            hook(name)

    @property
    def url(self) -> str:
        """nats://host:port of the bound listener."""
        return f"nats://{self.options.host}:{self.port}"

    async def stop(self) -> None:
        """Close the listener and every connection."""
        if self._server is not None:
            self._server.close()
        for listener in self.listeners:
            listener.close()
        for client in list(self.clients.values()):
            client.close()
        for service in self.services:
            service.close()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        for listener in self.listeners:
            await listener.wait_closed()
        self.listeners.clear()

    async def lame_duck(self) -> None:
        """nats-server's lame-duck mode (SIGUSR2): stop accepting, send an INFO with "ldm":
        true, wait lame_duck_grace_period, close the clients spread over the rest of
        lame_duck_duration (at most a second apart), then stop."""
        if self._server is None or self.lame_duck_mode:
            return
        log.warning("Entering lame duck mode, stop accepting new clients")
        self.lame_duck_mode = True
        self._server.close()  # no new clients; stop() still waits for it
        for listener in self.listeners:
            if listener is not self.monitor_listener:  # monitoring stays up, as nats-server
                listener.close()
        clients = list(self.clients.values())
        if clients:
            for client in clients:
                client.send_lame_duck_info()
            opts = self.options
            await asyncio.sleep(opts.lame_duck_grace_period)
            log.warning("Closing existing clients")
            spread = max(opts.lame_duck_duration - opts.lame_duck_grace_period, 1.0)
            interval = min(spread / len(clients), 1.0)
            for i, client in enumerate(clients):
                client.close()
                if i < len(clients) - 1:
                    await asyncio.sleep(random.uniform(interval / 2, interval))
        await self.stop()

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        """Run until cancelled."""
        assert self._server is not None
        await self._server.serve_forever()

    # --- MessageBus ----------------------------------------------------------------------------

    def subscribe(self, account: str, subject: str, handler: Handler) -> int:
        """Internal subscription: `handler` runs synchronously for each matching message."""
        sid = next(self._sids)
        sub = Subscription(self.internal, str(sid), subject, None, self.router.account(account))
        self.internal.handlers[sid] = (sub, handler)
        self.router.subscribe(sub)
        return sid

    def subscribe_raw(self, account: str, subject: str, handler: RawHandler) -> int:
        """Internal subscription whose handler takes the header block unparsed (bus.py)."""
        sid = next(self._sids)
        sub = Subscription(self.internal, str(sid), subject, None, self.router.account(account))
        self.internal.raw_handlers[sub] = handler
        self._raw_subs[sid] = sub
        self.router.subscribe(sub)
        return sid

    def unsubscribe(self, sid: int) -> None:
        """Remove an internal subscription."""
        entry = self.internal.handlers.pop(sid, None)
        if entry is not None:
            self.router.unsubscribe(entry[0])
        raw = self._raw_subs.pop(sid, None)
        if raw is not None:
            del self.internal.raw_handlers[raw]
            self.router.unsubscribe(raw)

    def publish(
        self,
        account: str,
        subject: str,
        payload: bytes,
        *,
        reply: str | None = None,
        headers: dict[str, str] | None = None,
        no_reply: str | None = "",
    ) -> None:
        """Publish as the server's internal client. Without a reply, the MSG line carries
        `no_reply` as its reply field: "" (an empty field, `MSG _R.x 1  438`), as nats-server's
        system account answers, or None (no field), as its JetStream sends (ServerBus)."""
        if headers is None and not reply and subject.startswith(INBOX_PREFIX):
            self.publish_replies(account, ((subject, payload),), no_reply)
            return
        router = self.router
        target = router.accounts.get(account) or router.account(account)
        block = build_headers(headers) if headers is not None else None
        router.publish(target, subject, reply or no_reply, block, payload)

    def publish_replies(
        self, account: str, replies: Sequence[tuple[str, bytes]], no_reply: str | None = ""
    ) -> None:
        """publish(account, inbox, payload, no_reply=no_reply) for each (inbox, payload), in
        order: answers to clients' request inboxes (a loop iteration's JetStream acks).

        An inbox's match is cached per parent (SubList.match_inbox). Where the account routes
        nothing across and the inbox's subscribers are plain clients (the requester's inbox
        wildcard), each MSG is made as Client.deliver makes it, without its layers, and a
        client's consecutive answers are queued to it at once; a subscription the delivery
        rules treat specially (permissions, an UNSUB maximum) takes deliver(), anything else
        Router.publish."""
        router = self.router
        target = router.accounts.get(account) or router.account(account)
        if target.response_routes or target.stream_exports_to or target.service_imports:
            for inbox, payload in replies:
                router.publish(target, inbox, no_reply, None, payload)
            return
        match_inbox = target.sublist.match_inbox
        held_for: Client | None = None  # the client whose MSGs are being gathered
        held: list[bytes] = []
        for inbox, payload in replies:
            plan: ReplyPlan = ()
            if inbox.startswith(INBOX_PREFIX):
                result = match_inbox(inbox)
                plan = result.direct
                if plan is None:
                    plan = result.direct = _reply_plan(result)
            if not plan:  # a queue group, a service, no inbox: the router's way
                if held_for is not None:
                    held_for._queue(b"".join(held))
                    held_for, held = None, []
                router.publish(target, inbox, no_reply, None, payload)
                continue
            inbox_b = wire(inbox)
            for sub, owner in plan:
                if owner.session.permissions is None and sub.max_msgs is None:
                    if owner.closed:
                        continue
                    if owner is not held_for:
                        if held_for is not None:
                            held_for._queue(b"".join(held))
                        held_for, held = owner, []
                    held.append(encode_msg(inbox_b, sub.sid_b, no_reply, payload))
                    owner.out_msgs += 1
                    owner.out_bytes += len(payload)
                    sub.delivered += 1
                    continue
                if held_for is not None:
                    held_for._queue(b"".join(held))
                    held_for, held = None, []
                if owner.deliver(sub, inbox, no_reply, None, payload):
                    router.count_delivery(sub)
        if held_for is not None:
            held_for._queue(b"".join(held))

    # --- for clients and services ------------------------------------------------------------

    def info(
        self, client: Inbound, nonce: str | None, connect_info: bool = False, ldm: bool = False
    ) -> dict[str, Any]:
        """INFO fields in the Go struct's order."""
        fields: dict[str, Any] = {
            "server_id": self.server_id,
            "server_name": self.name,
            "version": VERSION,
            "proto": PROTO,
            "git_commit": "server_stub",
            "go": f"python{sys.version_info.major}.{sys.version_info.minor}",
            "host": self.options.host,
            "port": self.port,
            "headers": True,
        }
        # nats-server announces no auth_required when a client without credentials is let in
        if self.auth.auth_required and not self.auth.no_auth_user:
            fields["auth_required"] = True
        if self.options.tls is not None:
            fields["tls_required"] = True
            if self.options.tls.verify:
                fields["tls_verify"] = True
        payload = self.options.max_payload
        if connect_info and 0 <= client.session.max_payload < payload:
            payload = (
                client.session.max_payload
            )  # the connection's own limit once the user is known
        fields["max_payload"] = payload
        if self.options.jetstream is not None:
            fields["jetstream"] = True
        fields["client_id"] = client.cid
        fields["client_ip"] = client.host
        if nonce:
            fields["nonce"] = nonce
        if ldm:
            fields["ldm"] = True
        if connect_info and client.account is not None:
            fields["connect_info"] = True
            fields["remote_account"] = client.account.name
            if client.account.is_system:
                fields["acc_is_sys"] = True
        domain = (self.options.jetstream or {}).get("domain")
        if domain:  # nats-server announces its JetStream domain
            fields["domain"] = domain
        fields["api_lvl"] = API_LEVEL
        fields["xkey"] = self.xkey
        return fields

    def callout_side(self) -> ServerSide:
        """What an auth callout request needs from the server (server_stub.callout)."""
        names = {spec.name for spec in self.options.accounts} | {"$G"}
        return ServerSide(
            self.server_key,
            self.xkey_pair,
            self.name,
            self.options.host,
            VERSION,
            self.options.auth_timeout,
            names,
        )

    def clients_of(self, account: Account) -> list[Client]:
        """Connected clients bound to an account."""
        return [c for c in account.clients if isinstance(c, Client)]


# Server.publish_replies' delivery plan for a reply inbox's match (kept on MatchResult.direct):
# each plain subscription with its client, or () when one is not a client's or a queue group
# matches (then Router.publish delivers). The inbox's own subject is not in it: one result
# serves every inbox of a parent (SubList.match_inbox).
ReplyPlan = tuple[tuple[Subscription, Client], ...]


def _reply_plan(result: MatchResult[Subscription]) -> ReplyPlan:
    if result.queues:
        return ()
    plan = []
    for sub in result.plain:
        owner = sub.owner
        if not isinstance(owner, Client):
            return ()
        plan.append((sub, owner))
    return tuple(plan)
