"""The asyncio NATS server: the only module that touches sockets, timers and the event loop.

Each connection is an asyncio.Protocol feeding a sans-I/O ServerConnection. Outgoing bytes are
collected per connection and written once per loop iteration, so a burst of deliveries costs one
write call.

Slow consumers get nats-server's policy: a client whose unsent bytes pass max_pending, or whose
socket has not taken a batch handed to it within write_deadline, is logged ("Slow Consumer
Detected: ..."), counted (server and account), and dropped at once: what the kernel already holds
is delivered, the rest is discarded, and no -ERR is sent (it would sit behind the backlog).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any, cast

from nscpy import keys
from nscpy.jwt.subject import is_valid_publish_subject, is_valid_subject
from nscpy.values import format_go_duration
from server_stub import errors
from server_stub.auth import Authenticator, ConnectionInfo, Identity, NoAuth
from server_stub.bus import BusMessage, Handler
from server_stub.callout import CalloutNeeded
from server_stub.errors import AuthError, ProtocolError
from server_stub.events import Connect, HPub, Info, Ping, Pong, Pub, Sub, Unsub
from server_stub.headers import build_headers, no_responders, parse_headers
from server_stub.options import ServerOptions
from server_stub.protocol import NEED_DATA, ServerConnection, encode_hmsg, encode_msg
from server_stub.router import Account, Router, Subscription

log = logging.getLogger("server_stub")

VERSION = "2.15.1"  # the nats-server release whose wire behaviour this stub reproduces
PROTO = 1
API_LEVEL = 5


# How long a closing connection waits for its peer to close before closing anyway.
_LINGER_SECONDS = 1.0

# Operations one connection may have handled per turn of the event loop before the others get
# theirs. A read brings up to 256 KB (~13,000 SUBs of a SUB storm, ~80 ms of work); nats-server
# gives each connection its own goroutine, so nobody waits for another client's backlog there.
_EVENTS_PER_TURN = 1000
_PAYLOAD_COST_SHIFT = 10  # a PUB costs one operation more per KB of payload


class InternalClient:
    """The server's own client: delivers to in-process handlers (the MessageBus side)."""

    echo = True

    def __init__(self) -> None:
        self.handlers: dict[int, tuple[Subscription, Handler]] = {}

    def deliver(
        self,
        sub: Subscription,
        subject: str,
        reply: str | None,
        headers: bytes | None,
        payload: bytes,
    ) -> bool:
        """Call the handler synchronously; its exceptions are logged, never raised to clients."""
        entry = self.handlers.get(int(sub.sid))
        if entry is None:
            return False
        msg = BusMessage(
            sub.account.name,
            subject,
            reply or None,
            parse_headers(headers) if headers is not None else None,
            payload,
        )
        try:
            entry[1](msg)
        except Exception:  # a broken service must not take the client's connection down
            log.exception("internal handler for %s failed", sub.subject)
        return True


class Server:
    """A NATS server on 127.0.0.1; also the MessageBus for internal services."""

    def __init__(self, options: ServerOptions, authenticator: Authenticator | None = None) -> None:
        self.options = options
        self.auth: Authenticator = authenticator or options.authorization or NoAuth()
        self.router = Router()
        self.clients: dict[int, Client] = {}
        self.server_key = keys.create_pair(keys.Prefix.SERVER)  # signs auth callout requests
        self.server_id = self.server_key.public_key
        self.xkey_pair = keys.create_curve_pair()  # seals auth callout requests
        self.xkey = self.xkey_pair.public_key
        self.inbox_prefix = os.urandom(6).hex()
        self.name = options.server_name or self.server_id
        self.port = 0
        self.internal = InternalClient()
        self._sids = itertools.count(1)
        self._cids = itertools.count(1)
        self._server: asyncio.AbstractServer | None = None
        self._valid_pub: dict[str, bool] = {}
        self.ssl_context: Any = None
        self.lame_duck_mode = False
        # monitoring counters (varz): connections ever accepted, messages of closed clients
        self.total_connections = 0
        self.closed_stats = [0, 0, 0, 0]  # in_msgs, in_bytes, out_msgs, out_bytes
        self.listeners: list[asyncio.AbstractServer] = []  # monitoring, websocket
        self.http_port = 0  # the bound monitoring port (0: none)
        self.websocket_port = 0  # the bound websocket port (0: none)
        self.http_req_stats: dict[str, int] = {}
        self.monitor_listener: asyncio.AbstractServer | None = None
        self.services: list[Any] = []  # internal services (resolver, JetStream) kept alive here
        # called with an account name whenever operator mode loads, updates or deletes it
        self.account_hooks: list[Callable[[str], None]] = []
        self.started = time.time()
        self.slow_consumers = 0  # as nats-server's varz slow_consumers
        # While a client's input is handled, the clients it delivered to wait here and are
        # flushed once at the end: one write per client per read, not one loop turn later.
        self.reading = False
        self.dirty: list[Client] = []

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

        await start_listeners(self)
        self._start_services()

    def _start_services(self) -> None:
        from server_stub.accounts import apply_accounts

        apply_accounts(self.router, self.options.accounts, self.options.system_account)
        hook = getattr(self.auth, "attach", None)
        if hook is not None:  # operator mode: resolver handlers on $SYS subjects
            hook(self)
        if self.options.jetstream is not None:
            self._start_jetstream(self.options.jetstream)

    def _start_jetstream(self, config: dict[str, Any]) -> None:
        """Hook for server_stub.jetstream: its `host.attach(server, block)` wires the engine."""
        try:
            from server_stub.jetstream.host import attach
        except ImportError:
            raise errors.ConfigError("jetstream {} is configured but not available") from None
        self.services.append(attach(self, config))

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
            close = getattr(service, "close", None)
            if close is not None:
                close()
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

    def unsubscribe(self, sid: int) -> None:
        """Remove an internal subscription."""
        entry = self.internal.handlers.pop(sid, None)
        if entry is not None:
            self.router.unsubscribe(entry[0])

    def publish(
        self,
        account: str,
        subject: str,
        payload: bytes,
        *,
        reply: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Publish as the server's internal client."""
        block = build_headers(headers) if headers is not None else None
        # nats-server's internal client sends replies with an empty reply field
        self.router.publish(
            self.router.account(account), subject, reply if reply else "", block, payload
        )

    # --- helpers for clients -------------------------------------------------------------------

    def valid_publish_subject(self, subject: str) -> bool:
        """Cached is_valid_publish_subject."""
        ok = self._valid_pub.get(subject)
        if ok is None:
            if len(self._valid_pub) > 8192:
                self._valid_pub.clear()
            ok = self._valid_pub[subject] = is_valid_publish_subject(subject)
        return ok

    def info(
        self, client: Client, nonce: str | None, connect_info: bool = False, ldm: bool = False
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
        if self.auth.auth_required and not getattr(self.auth, "no_auth_user", None):
            fields["auth_required"] = True
        if self.options.tls is not None:
            fields["tls_required"] = True
            if self.options.tls.verify:
                fields["tls_verify"] = True
        payload = self.options.max_payload
        if connect_info and 0 <= client.max_payload < payload:
            payload = client.max_payload  # the connection's own limit once the user is known
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

    def callout_side(self) -> Any:
        """What an auth callout request needs from the server (server_stub.callout)."""
        from server_stub.callout_request import ServerSide

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


class Client(asyncio.Protocol):
    """One client connection: transport in, protocol events, routing, transport out."""

    def __init__(self, server: Server) -> None:
        self.server = server
        opts = server.options
        self.cid = next(server._cids)
        self.proto = ServerConnection(opts.max_payload, opts.max_control_line)
        self.transport: asyncio.Transport | None = None
        self.host = ""
        self.port = 0
        self.nonce: str | None = None
        self.connected = False  # CONNECT accepted
        self.closed = False
        self.verbose = True  # nats-server client options default to verbose until CONNECT
        self.pedantic = True  # as verbose: nats-server's default until CONNECT says otherwise
        self.echo = True
        self.headers = False
        self.no_responders = False
        self.protocol = 0
        self.pongs = 0
        self.pings_out = 0
        self.identity: Identity | None = None
        self.account: Account | None = None
        self.perms: Any = None
        self.max_subs = -1  # per connection: the smaller of the account's and the user's
        self.max_payload = -1
        self.subs: dict[str, Subscription] = {}
        self.replies: dict[str, list[float]] = {}  # reply subject -> [remaining, deadline]
        self.tls = False
        # for /connz: what CONNECT said, when, traffic counters, the last PING's round trip
        self.name = self.lang = self.client_version = ""
        self.start = self.last_activity = time.time()
        self.in_msgs = self.in_bytes = self.out_msgs = self.out_bytes = 0
        self.rtt: float | None = None
        self._ping_sent = 0.0
        self.websocket = False
        self._out: list[bytes] = []
        self._out_size = 0
        self._flush_pending = False
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._upgrading = False
        self.paused = False  # an auth callout is deciding this client: input waits
        # write_deadline bookkeeping: bytes handed to the transport so far, and for the oldest
        # batch still in its buffer: where it ends in that count, its chunks and bytes
        self._written = 0
        self._batch: tuple[int, int, int] = (0, 0, 0)
        self._write_timer: asyncio.TimerHandle | None = None
        self._parse_scheduled = False  # a _process call is queued (the event budget ran out)
        self._reading_paused = False
        self._budget = 0  # operations this connection may still handle in this turn
        self._max_pending = opts.max_pending
        self._buffered = 0  # the transport's write buffer size at the last flush (see _queue)

    # --- transport callbacks -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Send INFO, start the TLS upgrade and the auth/ping timers."""
        # a stream transport (uvloop's does not derive from asyncio.Transport, hence the cast)
        self.transport = transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername") or ("", 0)
        self.host, self.port = peer[0], peer[1]
        self.tls = transport.get_extra_info("sslcontext") is not None
        server = self.server
        server.clients[self.cid] = self
        server.total_connections += 1
        if server.auth.needs_nonce:
            self.nonce = base64.urlsafe_b64encode(os.urandom(11)).rstrip(b"=").decode()
        info = self.proto.send(_info_event(server.info(self, self.nonce)))
        if len(server.clients) > server.options.max_connections:
            transport.write(info)
            self.fail(errors.MAX_CONNECTIONS)
            return
        transport.write(info)
        tls = server.options.tls
        if tls is not None and not self.tls and not self.websocket:
            self._upgrading = True
            asyncio.ensure_future(self._start_tls(tls.timeout))
        if server.auth.auth_required:
            self._timer("auth", server.options.auth_timeout, self._auth_timeout)
        first = min(server.options.first_ping, server.options.ping_interval)
        self._timer("ping", first, self._ping_tick)

    async def _start_tls(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        assert self.transport is not None
        try:
            new = await loop.start_tls(
                self.transport,
                self,
                self.server.ssl_context,
                server_side=True,
                ssl_handshake_timeout=timeout,
            )
        except (OSError, asyncio.TimeoutError, ConnectionError) as exc:
            log.info("cid %d: TLS handshake error: %s", self.cid, exc)
            self.close()
            return
        if new is None or self.closed:
            self.close()
            return
        self.transport = new
        self.tls = True
        self._upgrading = False
        if self._out:
            self._flush()
        if not self.paused and not self._parse_scheduled:
            self._process()  # what arrived with the end of the handshake (see data_received)

    def data_received(self, data: bytes) -> None:
        """Parse and handle the complete operations in `data` (see _EVENTS_PER_TURN)."""
        if self.closed:
            return
        if self._upgrading:
            assert self.transport is not None
            if self.transport.get_protocol() is self:
                # bytes on the plain socket before the handshake began: not TLS, never NATS
                log.info("cid %d: TLS handshake error: plaintext before the handshake", self.cid)
                self.close()
                return
            # Decrypted bytes can arrive with the handshake's last flight, before start_tls()
            # hands us the new transport: a CONNECT handled now would answer (-ERR) on the
            # plain transport, and the client would read EOF. Keep them until the upgrade ends.
            self.proto.receive_data(data)
            return
        self.proto.receive_data(data)
        if not self.paused and not self._parse_scheduled:
            self._process()

    def _process(self) -> None:
        server = self.server
        if server.reading:  # called from within another client's input (an auth callout)
            self._handle_input()
            return
        server.reading = True
        try:
            self._handle_input()
        finally:
            server.reading = False
            dirty, server.dirty = server.dirty, []
            for client in dirty:
                client._flush()

    def _handle_input(self) -> None:
        self._parse_scheduled = False
        proto = self.proto
        handlers = self._handlers
        fast_pub = self._publish
        self._budget = _EVENTS_PER_TURN
        try:
            while True:
                if self.closed or self.paused:
                    return
                # runs of canonical PUB/HPUB skip the event objects (see read_pubs)
                proto.read_pubs(fast_pub)
                if self.closed or self.paused:
                    return
                if self._budget <= 0:
                    break
                event = proto.next_event()
                if event is NEED_DATA:
                    if self._reading_paused and self.transport is not None:
                        self._reading_paused = False
                        self.transport.resume_reading()
                    return
                if type(event) is not Pub and type(event) is not HPub:
                    self._budget -= 1  # _publish charges its own
                handlers[type(event)](self, event)
                if self._budget <= 0:
                    break
        except ProtocolError as exc:
            log.info("cid %d: protocol error: %s", self.cid, exc)
            subject = exc.pub_subject
            if subject is not None and self.pedantic:
                if not self.server.valid_publish_subject(subject):
                    self.send_err(errors.INVALID_PUBLISH_SUBJECT)
            if exc.err is not None:
                self.fail(exc.err)
            else:
                self.close()
            return
        if self.closed or self.transport is None:
            return
        # Budget spent with input left: read no more until it is handled, and let the other
        # connections have their turn first.
        if not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()
        self._parse_scheduled = True
        asyncio.get_running_loop().call_soon(self._process)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget subscriptions, timers and the client registration."""
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        self._cleanup()

    # --- operations ----------------------------------------------------------------------------

    def _needs_auth(self) -> bool:
        if not self.connected and self.server.auth.auth_required:
            if getattr(self.server.auth, "no_auth_user", None):
                # nats-server binds no_auth_user to a client that starts without CONNECT
                self._bind(self.server.auth.authenticate({}, self._connection_info()), ok=False)
                return self.closed
            self.fail(errors.AUTH_VIOLATION)
            return True
        return False

    def _connection_info(self) -> ConnectionInfo:
        kind = "WEBSOCKET" if self.websocket else "STANDARD"
        return ConnectionInfo(self.host, self.port, self.nonce, time.time(), self.tls, kind)

    def _on_connect(self, event: Connect) -> None:
        server = self.server
        opts = event.options
        # nats-server's client options default to verbose=true when the field is missing
        self.verbose = bool(opts.get("verbose", True))
        self.pedantic = bool(opts.get("pedantic", True))
        self.echo = bool(opts.get("echo", True))
        self.headers = bool(opts.get("headers", False))
        self.no_responders = bool(opts.get("no_responders", False))
        proto = opts.get("protocol", 0)
        self.protocol = proto if isinstance(proto, int) else 0
        for attr, key in (("name", "name"), ("lang", "lang"), ("client_version", "version")):
            value = opts.get(key)
            setattr(self, attr, value if isinstance(value, str) else "")
        if self.no_responders and not self.headers:
            self.fail(errors.NO_RESPONDERS_NEEDS_HEADERS)
            return
        if self.connected:
            self._ok()
            return
        info = self._connection_info()
        try:
            identity = server.auth.authenticate(opts, info)
        except AuthError as exc:
            log.info("cid %d: authentication error: %s", self.cid, exc.reason)
            self.fail(exc.err)
            return
        except CalloutNeeded as need:
            from server_stub.callout import Callout

            self._cancel("auth")  # the callout's own timeout (the auth timeout) applies
            self.paused = True
            Callout(server, self, need, opts, info)  # after any TLS upgrade (data_received)
            return
        self._bind(identity)

    def callout_done(self, identity: Identity | None) -> None:
        """The auth callout decided: bind the identity (or refuse), then resume the input."""
        self.paused = False
        if self.closed:
            return
        if identity is None:
            self.fail(errors.AUTH_VIOLATION)
            return
        self._bind(identity)
        if not self.closed:
            self._process()

    def _bind(self, identity: Identity, ok: bool = True) -> None:
        server = self.server
        try:
            account = server.router.account(identity.account)
            admit = getattr(server.auth, "admit", None)
            if admit is not None:  # account-level checks (connection limits) in operator mode
                admit(identity, account, len(server.clients_of(account)))
        except AuthError as exc:
            log.info("cid %d: authentication error: %s", self.cid, exc.reason)
            self.fail(exc.err)
            return
        self._cancel("auth")
        self.identity = identity
        self.account = account
        self.perms = identity.permissions
        grant = identity.extra.get("grant")
        if grant is not None:
            self.apply_grant(grant)
        else:
            self.max_subs, self.max_payload = account.max_subs, account.max_payload
            self._limit_payload()
        self.connected = True
        account.clients.add(self)
        if identity.expires is not None:
            self._timer("expiry", max(0.0, identity.expires - time.time()), self._expired)
        if ok:
            self._ok()

    def _on_ping(self, event: object) -> None:
        if self._needs_auth():
            return
        self._queue(b"PONG\r\n")
        self.pongs += 1
        if self.pongs == 1 and self.connected and self.protocol >= 1:
            # nats-server follows the first PONG with an INFO that names the bound account
            fields = self.server.info(self, None, connect_info=True)
            self._queue(self.proto.send(_info_event(fields)))

    def send_lame_duck_info(self) -> None:
        """INFO with "ldm": true, to clients that take async INFO (as nats-server: protocol
        1 and past the first PONG)."""
        if self.connected and self.protocol >= 1 and self.pongs >= 1:
            self._queue(self.proto.send(_info_event(self.server.info(self, None, ldm=True))))

    def _on_pong(self, event: object) -> None:
        if self._needs_auth():
            return
        self.pings_out = 0
        if self._ping_sent:
            self.rtt = time.monotonic() - self._ping_sent
            self._ping_sent = 0.0

    def _on_sub(self, event: Sub) -> None:
        if self._needs_auth():
            return
        account = self._account()
        subject = event.subject
        # nats-server's order: permissions, the subscription limit, a reused sid (ignored, even
        # with a subject it would refuse), and only then the subject's syntax (at insert)
        if self.perms is not None and not self.perms.can_subscribe(subject, event.queue):
            log.info("cid %d: Subscription Violation - Subject %r", self.cid, subject)
            self.send_err(errors.sub_violation(subject, event.queue))
            return
        if 0 <= self.max_subs <= len(self.subs):
            self.send_err(errors.MAX_SUBSCRIPTIONS)
            return
        if event.sid in self.subs:
            self._ok()
            return
        if not is_valid_subject(subject) or (event.queue is not None and not event.queue):
            self.send_err(errors.INVALID_SUBJECT)
            return
        sub = Subscription(self, event.sid, subject, event.queue, account)
        self.subs[event.sid] = sub
        self.server.router.subscribe(sub)
        self._ok()

    def _on_unsub(self, event: Unsub) -> None:
        if self._needs_auth():
            return
        sub = self.subs.get(event.sid)
        if sub is not None:
            if event.max_msgs is not None and sub.delivered < event.max_msgs:
                sub.max_msgs = event.max_msgs
            else:
                self._remove_sub(sub)
        self._ok()

    def _on_pub(self, event: Pub | HPub) -> None:
        headers = event.headers if type(event) is HPub else None
        self._publish(event.subject, event.reply, headers, event.payload)

    def _publish(
        self, subject: str, reply: str | None, headers: bytes | None, payload: bytes
    ) -> bool:
        """Handle one PUB/HPUB (read_pubs calls this directly, with no event) and charge the
        turn's budget. True: read_pubs may go on; False ends its run (after a refusal, too: the
        event path then reads on, so a rare case only costs speed)."""
        self._budget -= 1 + (len(payload) >> _PAYLOAD_COST_SHIFT)  # a big payload's copies
        if not self.connected and self._needs_auth():
            return False
        server = self.server
        if not server.valid_publish_subject(subject):
            # Only pedantic clients hear about it (nats-py connects with pedantic:false, and
            # its JetStream API publishes to `...CONSUMER.CREATE.S.C.orders.>`); either way a
            # wildcard subject is still delivered, matched token by token as literal text.
            if self.pedantic:
                self.send_err(errors.INVALID_PUBLISH_SUBJECT)
            if "" in subject.split("."):
                # nats-server's sublist gives up on an empty token (`a..b`) but takes `a.>.b`
                # token by token; permissions are still checked, and an allow list never
                # matches such a subject. Nothing is delivered either way.
                if self.perms is not None and self.perms.pub_allow is not None:
                    self.send_err(errors.pub_violation(subject))
                else:
                    self._ok()
                return False
        account = self.account or self._account()
        if self.perms is not None and not self._can_publish(subject):
            log.info("cid %d: Publish Violation - Subject %r", self.cid, subject)
            self.send_err(errors.pub_violation(subject))
            return False
        max_payload = self.max_payload
        if max_payload >= 0 and max_payload < len(payload) + (len(headers) if headers else 0):
            self.fail(errors.MAX_PAYLOAD)
            return False
        if self.verbose:  # nats-server acknowledges before it delivers
            self._queue(b"+OK\r\n")
        self.in_msgs += 1
        self.in_bytes += len(payload) + (len(headers) if headers else 0)
        self.last_activity = time.time()
        count = server.router.publish(account, subject, reply, headers, payload, self)
        if count == 0 and reply and self.no_responders:
            self._send_no_responders(account, subject, reply)
        return self._budget > 0 and not self.closed and not self.paused

    def apply_grant(self, grant: Any) -> None:
        """Take permissions and limits from an operator-mode grant (at connect and on updates)."""
        self.perms = grant.permissions
        self.max_subs = grant.max_subs
        self.max_payload = grant.max_payload
        self._limit_payload()

    def _limit_payload(self) -> None:
        # nats-server checks a PUB's size against the connection's own limit as soon as it reads
        # the PUB line, before the payload and before the pedantic subject check
        limit = self.server.options.max_payload
        if 0 <= self.max_payload < limit:
            limit = self.max_payload
        self.proto.max_payload = limit

    def _can_publish(self, subject: str) -> bool:
        if self.perms.can_publish(subject):
            return True
        grant = self.replies.get(subject)
        if grant is None:
            return False
        if grant[1] and grant[1] < time.time():
            del self.replies[subject]
            return False
        grant[0] -= 1
        if grant[0] <= 0:
            del self.replies[subject]
        return True

    def _send_no_responders(self, account: Account, subject: str, reply: str) -> None:
        for sub in account.sublist.match(reply).plain:
            if sub.owner is self:
                data = encode_hmsg(_wire(reply), sub.sid_b, None, no_responders(subject), b"")
                self._queue(data)
                return

    _handlers: dict[type, Any] = {
        Connect: _on_connect,
        Pub: _on_pub,
        HPub: _on_pub,
        Sub: _on_sub,
        Unsub: _on_unsub,
    }

    # --- delivery (called by the router) -------------------------------------------------------

    def deliver(
        self,
        sub: Subscription,
        subject: str,
        reply: str | None,
        headers: bytes | None,
        payload: bytes,
    ) -> bool:
        """Queue MSG/HMSG for one subscription; False when closed or the deny list filters it."""
        if self.closed:
            return False
        perms = self.perms
        if perms is not None:
            if not perms.can_deliver(subject):
                return False
            if reply and perms.response is not None:
                ttl = perms.response.ttl
                self.replies[reply] = [perms.response.max_msgs, time.time() + ttl if ttl else 0]
        if headers is not None and self.headers:
            data = encode_hmsg(_wire(subject), sub.sid_b, reply, headers, payload)
            self.out_bytes += len(headers)
        else:
            data = encode_msg(_wire(subject), sub.sid_b, reply, payload)
        self.out_msgs += 1
        self.out_bytes += len(payload)
        self._queue(data)
        return True

    # --- output --------------------------------------------------------------------------------

    def _queue(self, data: bytes) -> None:
        if self.closed:
            return
        self._out.append(data)
        self._out_size += len(data)
        limit = self._max_pending
        # The transport's buffer only shrinks between our flushes, so its size at the last
        # flush bounds it: ask the transport only when that bound passes the limit.
        if self._out_size + self._buffered > limit:
            transport = self.transport
            assert transport is not None
            self._buffered = transport.get_write_buffer_size()
            if self._out_size + self._buffered > limit:
                self._slow_consumer(f"MaxPending of {limit} Exceeded", counted=True)
                return
        if not self._flush_pending:
            self._flush_pending = True
            if self.server.reading:
                self.server.dirty.append(self)
            else:
                asyncio.get_running_loop().call_soon(self._flush)

    def pending_bytes(self) -> int:
        """Bytes queued for this client and not yet taken by the socket (/connz)."""
        transport = self.transport
        buffered = 0
        if transport is not None and not transport.is_closing():
            buffered = transport.get_write_buffer_size()
        return self._out_size + buffered

    def _flush(self) -> None:
        self._flush_pending = False
        if self.closed or self._upgrading or not self._out or self.transport is None:
            return
        chunks = len(self._out)
        data = b"".join(self._out) if chunks > 1 else self._out[0]
        self._out.clear()
        self._out_size = 0
        self.transport.write(data)
        self._written += len(data)
        self._buffered = self.transport.get_write_buffer_size()
        if self._write_timer is None:
            self._arm_write_deadline(chunks)

    def _arm_write_deadline(self, chunks: int) -> None:
        # Like nats-server's SetWriteDeadline around each flush: the bytes the socket could not
        # take now must all be gone within write_deadline, or the client is a slow consumer.
        assert self.transport is not None
        buffered = self.transport.get_write_buffer_size()
        if buffered:
            self._batch = (self._written, chunks, buffered)
            loop = asyncio.get_running_loop()
            delay = self.server.options.write_deadline
            self._write_timer = loop.call_later(delay, self._check_write_deadline)

    def _check_write_deadline(self) -> None:
        self._write_timer = None
        transport = self.transport
        if transport is None:
            return
        end, chunks, size = self._batch
        if self._written - transport.get_write_buffer_size() >= end:
            self._arm_write_deadline(1)  # that batch went out; time the newer bytes now
            return
        if self.closed:  # closed but its last bytes are stuck: do not linger for ever
            transport.abort()
            return
        deadline = format_go_duration(round(self.server.options.write_deadline * 1e9))
        self._slow_consumer(
            f"WriteDeadline of {deadline} exceeded with {chunks} chunks of {size} total bytes.",
            counted=self.connected,  # nats-server does not count one that never sent CONNECT
        )

    def _slow_consumer(self, reason: str, *, counted: bool) -> None:
        """Drop the client now, unflushed bytes and all, and report it as nats-server does."""
        log.warning(
            "%s:%d - cid:%d - Slow Consumer Detected: %s", self.host, self.port, self.cid, reason
        )
        if counted:
            self.server.slow_consumers += 1
            if self.account is not None:
                self.account.slow_consumers += 1
        self._out.clear()
        self._out_size = 0
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
        self._cleanup()

    def _ok(self) -> None:
        if self.verbose:
            self._queue(b"+OK\r\n")

    def send_err(self, text: str) -> None:
        """Send -ERR and keep the connection open (permission errors)."""
        self._queue(b"-ERR '" + _wire(text) + b"'\r\n")

    def fail(self, text: str) -> None:
        """Send -ERR and close."""
        if self.closed or self.transport is None:
            return
        self._out.append(b"-ERR '" + _wire(text) + b"'\r\n")
        if not self._upgrading:
            self._flush()
        self.close()

    def close(self) -> None:
        """Close after writing what is already queued."""
        if self.closed:
            return
        if self._out and not self._upgrading:
            self._flush()
        self.closed = True
        transport = self.transport
        if transport is not None:
            if not self._upgrading and transport.can_write_eof():
                # Half-close first and close fully once the peer has closed (or after a short
                # linger): closing a socket with unread input (a client's CONNECT still in
                # flight) makes the kernel send RST, and the client then loses the -ERR it had
                # not read yet. data_received ignores anything that arrives meanwhile.
                try:
                    transport.write_eof()
                except OSError:  # the peer is already gone (ENOTCONN): nothing to linger for
                    transport.close()
                else:
                    asyncio.get_running_loop().call_later(_LINGER_SECONDS, transport.close)
            else:
                transport.close()
        self._cleanup()

    def _cleanup(self) -> None:
        if self.cid in self.server.clients:  # the first cleanup: keep its counts for /varz
            stats = self.server.closed_stats
            stats[0] += self.in_msgs
            stats[1] += self.in_bytes
            stats[2] += self.out_msgs
            stats[3] += self.out_bytes
        self.closed = True
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self.subs:
            subs = list(self.subs.values())
            self.subs.clear()
            self._unsubscribe_all(subs, 0)
        if self.account is not None:
            self.account.clients.discard(self)
        self.server.clients.pop(self.cid, None)

    def _unsubscribe_all(self, subs: list[Subscription], start: int) -> None:
        # A client leaving with 100,000 SUBs leaves in turns as well (see _EVENTS_PER_TURN);
        # meanwhile its subscriptions refuse every delivery, since it is closed.
        unsubscribe = self.server.router.unsubscribe
        end = start + _EVENTS_PER_TURN
        for sub in subs[start:end]:
            unsubscribe(sub)
        if end < len(subs):
            asyncio.get_running_loop().call_soon(self._unsubscribe_all, subs, end)

    def _remove_sub(self, sub: Subscription) -> None:
        self.subs.pop(sub.sid, None)
        self.server.router.unsubscribe(sub)

    def _account(self) -> Account:
        if self.account is None:  # no-auth servers accept operations before CONNECT
            self.account = self.server.router.account("$G")
            self.account.clients.add(self)
        return self.account

    # --- timers --------------------------------------------------------------------------------

    def _timer(self, name: str, delay: float, callback: Any) -> None:
        self._cancel(name)
        self._timers[name] = asyncio.get_running_loop().call_later(delay, callback)

    def _cancel(self, name: str) -> None:
        handle = self._timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    def _auth_timeout(self) -> None:
        if not self.connected:
            self.fail(errors.AUTH_TIMEOUT)

    def _ping_tick(self) -> None:
        if self.closed:
            return
        if self.paused:  # nats-server sends no PING while an auth callout decides the client
            self._timer("ping", self.server.options.first_ping, self._ping_tick)
            return
        if self.pings_out + 1 > self.server.options.ping_max:
            self.fail(errors.STALE_CONNECTION)
            return
        self.pings_out += 1
        self._ping_sent = time.monotonic()
        self._queue(b"PING\r\n")
        self._timer("ping", self.server.options.ping_interval, self._ping_tick)

    def _expired(self) -> None:
        self.fail(errors.AUTH_EXPIRED)


Client._handlers[Ping] = Client._on_ping
Client._handlers[Pong] = Client._on_pong


def _info_event(fields: dict[str, Any]) -> Info:
    return Info(fields)


_SUBJECT_BYTES: dict[str, bytes] = {}


def _wire(subject: str) -> bytes:
    raw = _SUBJECT_BYTES.get(subject)
    if raw is None:
        if len(_SUBJECT_BYTES) > 8192:
            _SUBJECT_BYTES.clear()
        raw = _SUBJECT_BYTES[subject] = subject.encode("utf-8", "surrogateescape")
    return raw
