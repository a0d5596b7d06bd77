"""The read path of a client connection: transport callbacks, TLS upgrade, INFO, the parse
loop in turns, the auth gate, and the connection's timers (auth timeout, PING, expiry).

Theory of operation. The transport reads into the server's shared buffer and `buffer_updated`
hands a view of it to `data_received`; the sans-I/O ServerConnection (protocol.py) copies the
bytes into its own buffer at once and turns them into events; each operation other than
CONNECT passes the Session's auth gate once, in `_handle_input`, and then goes to its handler on
Client (client.py). Runs of canonical PUBs skip the event objects (`read_pubs`) but not the
rules: they go to `Client._publish_raw`, which delivers directly what it may and hands the
rest to `Client._publish`, where the event path ends too.

Input is handled in turns: after session.EVENTS_PER_TURN operations with input left, reading
pauses and the rest waits for the next loop iteration, so one busy connection cannot starve
the others. While an auth callout decides the client (`paused`), input waits.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from server_stub import errors
from server_stub.errors import ProtocolError
from server_stub.eventloop import PollingLoop
from server_stub.events import Connect, HPub, Info, Ping, Pub
from server_stub.outbound import Outbound
from server_stub.protocol import NEED_DATA, PubHandler, ServerConnection
from server_stub.session import Session, valid_publish_subject

if TYPE_CHECKING:
    from server_stub.server import Server

log = logging.getLogger("server_stub")

_PING = Ping()


class Inbound(Outbound, asyncio.BufferedProtocol):
    """A connection's input side; the base of Client, which adds the operations."""

    _handlers: dict[type, Callable[[Any, Any], None]]  # event type -> Client method
    _publish_raw: PubHandler

    def __init__(self, server: Server) -> None:
        Outbound.__init__(self, server)
        opts = server.options
        self.cid = next(server.cids)
        self.session = Session(
            self.cid,
            auth_required=server.auth.auth_required,
            no_auth_user=bool(server.auth.no_auth_user),
            server_max_payload=opts.max_payload,
        )
        self.proto = ServerConnection(opts.max_payload, opts.max_control_line)
        self.host = ""
        self.port = 0
        self.nonce: str | None = None
        self.tls = False
        self.websocket = False
        self.pongs = 0
        self.pings_out = 0
        # for /connz: when, traffic counters, the last PING's round trip
        self.start = self.last_activity = time.time()
        self.in_msgs = self.in_bytes = self.out_msgs = self.out_bytes = 0
        self.rtt: float | None = None
        self._ping_sent = 0.0
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self.paused = False  # an auth callout is deciding this client: input waits
        self._parse_scheduled = False  # a _process call is queued (the event budget ran out)
        # the polling selector's count of this loop turn's reads (None: another loop)
        loop = self._loop
        self._polling = loop.polling if isinstance(loop, PollingLoop) else None
        self._reading_paused = False

    def send_lame_duck_info(self) -> None:
        """INFO with "ldm": true, to clients that take async INFO (as nats-server: protocol
        1 and past the first PONG)."""
        session = self.session
        if session.connected and session.protocol >= 1 and self.pongs >= 1:
            self._queue(self.proto.send(Info(self.server.info(self, None, ldm=True))))

    def _auth_gate(self) -> bool:
        """Before CONNECT: bind no_auth_user or refuse (Client); True to go on."""
        raise NotImplementedError

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
        info = self.proto.send(Info(server.info(self, self.nonce)))
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
        delay = first_ping_delay(server.options.first_ping, server.options.ping_interval)
        self._timer("ping", delay, self._ping_tick)

    async def _start_tls(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        context = self.server.ssl_context
        assert self.transport is not None and context is not None  # set when tls {} is
        try:
            new = await loop.start_tls(
                self.transport,
                self,
                context,
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

    def get_buffer(self, sizehint: int) -> memoryview:
        """The server's shared read buffer (a BufferedProtocol: the transport reads into it)."""
        return self.server.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        """`nbytes` arrived in the shared buffer: the parser copies them out at once."""
        # asyncio's recv(256 KiB) per read allocates (and often mmaps) 256 KiB, then shrinks
        # it, for a 150-byte request; this way the bytes are copied once, into the parser.
        polling = self._polling
        if polling is not None:
            polling.reads_left -= 1  # one of this turn's reads is being handled
        self.data_received(self.server.read_buffer[:nbytes])

    def data_received(self, data: bytes | memoryview) -> None:
        """Parse and handle the complete operations in `data` (see EVENTS_PER_TURN)."""
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
        outer = server.reading
        server.reading = self  # whose request a service answers now (JetStream's API audit)
        if outer is not None:  # called from within another client's input (an auth callout)
            try:
                self._handle_input()
            finally:
                server.reading = outer
            return
        # a flush is already due when others' reads left clients dirty (see below)
        flush_due = bool(server.dirty)
        try:
            self._handle_input()
        finally:
            server.reading = None
            if server.dirty and not flush_due:
                # Other connections' reads wait behind this one in this loop turn: the clients
                # written to are flushed once after them all (16 requesters to one replier: one
                # write, not 16). Otherwise now, as nats-server's flushClients.
                polling = self._polling
                if polling is not None and polling.reads_left > 0:
                    self._loop.call_soon(flush_dirty, server)
                else:
                    flush_dirty(server)

    def _handle_input(self) -> None:
        self._parse_scheduled = False
        proto = self.proto
        session = self.session
        handlers = self._handlers
        fast_pub = self._publish_raw
        session.new_turn()
        try:
            while True:
                if self.closed or self.paused:
                    return
                if session.past_gate:
                    # runs of canonical PUB/HPUB skip the event objects (see read_pubs)
                    received = self.in_msgs
                    drained = proto.read_pubs(fast_pub)
                    if self.in_msgs != received:  # the direct path leaves this to the run
                        self.last_activity = time.time()
                    if self.closed or self.paused:
                        return
                    if session.budget <= 0:
                        break
                    event = NEED_DATA if drained else proto.next_event()
                else:
                    event = proto.next_event()
                if event is NEED_DATA:
                    if self._reading_paused and self.transport is not None:
                        self._reading_paused = False
                        self.transport.resume_reading()
                    return
                kind = type(event)
                if kind is not Pub and kind is not HPub:
                    session.budget -= 1  # a PUB is charged by its size (Session.check_publish)
                # the one auth gate: everything but CONNECT waits for an identity
                if kind is not Connect and not session.past_gate and not self._auth_gate():
                    return
                handlers[kind](self, event)
                if session.budget <= 0:
                    break
        except ProtocolError as exc:
            log.info("cid %d: protocol error: %s", self.cid, exc)
            subject = exc.pub_subject
            if subject is not None and session.pedantic:
                if not valid_publish_subject(subject):
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
        self._loop.call_soon(self._process)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget subscriptions, timers and the client registration."""
        self._cancel_write_deadline()
        self._cleanup()

    # --- timers --------------------------------------------------------------------------------

    def _timer(self, name: str, delay: float, callback: Callable[[], None]) -> None:
        self._cancel(name)
        self._timers[name] = asyncio.get_running_loop().call_later(delay, callback)

    def _cancel(self, name: str) -> None:
        handle = self._timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    def _auth_timeout(self) -> None:
        if not self.session.connected:
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
        self._queue(self.proto.send(_PING))
        self._timer("ping", self.server.options.ping_interval, self._ping_tick)

    def _expired(self) -> None:
        self.fail(errors.AUTH_EXPIRED)


def flush_dirty(server: Server) -> None:
    """Flush the clients written to while input was handled (server.dirty)."""
    dirty, server.dirty = server.dirty, []
    for client in dirty:
        client._flush()


def first_ping_delay(
    first_ping: float, ping_interval: float, draw: Callable[[], float] = random.random
) -> float:
    """Seconds from a client's connect to the server's first PING, as nats-server picks them.

    The shorter of the first-ping interval and ping_interval, plus a random part of up to a fifth
    of it (client.go setFirstPingTimer), so that many clients connected at once are not all
    pinged in the same instant: 2.0 to 2.4 s by default.
    """
    base = min(first_ping, ping_interval)
    return base + base / 5 * draw()
