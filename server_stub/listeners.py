"""The extra listeners of a Server: the HTTP monitoring port and the WebSocket port.

asyncio only: requests are parsed by httpwire, answered by monitor, frames decoded and encoded
by websocket (all sans-I/O); this module binds the sockets, takes the snapshot of the live server
that monitor reads, and gives a WebSocket client's Client a transport that speaks frames.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from server_stub import httpwire, monitor, websocket
from server_stub import monitor_views as views
from server_stub.version import VERSION

if TYPE_CHECKING:
    from server_stub.server import Server

log = logging.getLogger("server_stub")


async def start_listeners(server: Server) -> None:
    """Bind the monitoring port when configured (http_port -1: any free port)."""
    opts = server.options
    if opts.http_port:
        host = opts.http_host or opts.host
        port = 0 if opts.http_port == -1 else opts.http_port
        loop = asyncio.get_running_loop()
        listener = await loop.create_server(lambda: MonitorConnection(server), host, port)
        server.listeners.append(listener)
        server.monitor_listener = listener
        server.http_port = listener.sockets[0].getsockname()[1]
    ws = opts.websocket
    if ws is not None:
        ssl_context = None
        if ws.tls is not None:
            from server_stub.tls import server_context

            ssl_context = server_context(ws.tls)
        loop = asyncio.get_running_loop()
        listener = await loop.create_server(
            lambda: WebSocketConnection(server),
            ws.host or opts.host,
            0 if ws.port == -1 else ws.port,
            ssl=ssl_context,
            ssl_handshake_timeout=ws.tls.timeout if ws.tls is not None else None,
        )
        server.listeners.append(listener)
        server.websocket_port = listener.sockets[0].getsockname()[1]


class MonitorConnection(asyncio.Protocol):
    """One HTTP connection: a GET, its answer, then close."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.reader = httpwire.RequestReader()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        try:
            request = self.reader.receive(data)
        except httpwire.HttpError as exc:
            self._answer(exc.status, str(exc).encode(), "text/plain; charset=utf-8")
            return
        if request is None:
            return
        if request.method not in ("GET", "HEAD"):
            self._answer(405, b"Method Not Allowed\n", "text/plain; charset=utf-8")
            return
        path = request.path
        base = self.server.options.http_base_path.rstrip("/")
        if base:
            if path != base and not path.startswith(base + "/"):
                self._answer(404, b"404 page not found\n", "text/plain; charset=utf-8")
                return
            path = path[len(base) :] or "/"
        if path in monitor.endpoint_paths():
            stats = self.server.http_req_stats
            stats[path] = stats.get(path, 0) + 1
        status, body = monitor.handle(path, request.query, snapshot(self.server), time.time())
        kind = "application/json" if status == 200 else "text/plain; charset=utf-8"
        self._answer(status, b"" if request.method == "HEAD" else body, kind)

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        assert self.transport is not None
        self.transport.write(httpwire.response(status, body, content_type))
        self.transport.close()


class WebSocketConnection(asyncio.Protocol):
    """A WebSocket connection: the upgrade handshake, then frames in and out of a Client."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.request = httpwire.RequestReader()
        self.frames = websocket.FrameReader()
        self.transport: asyncio.Transport | None = None
        self.client: Any = None
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        ws = self.server.options.websocket
        timeout = (ws.handshake_timeout if ws is not None else 0.0) or 2.0
        self._timer = asyncio.get_running_loop().call_later(timeout, transport.abort)

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self.client is None:
            self._handshake(data)
            return
        try:
            events = self.frames.receive(data)
        except websocket.WebSocketError as exc:
            log.info("websocket: %s", exc)
            self.transport.write(websocket.close_frame(exc.status, str(exc)))
            self.transport.close()
            return
        for event in events:
            if isinstance(event, websocket.Data):
                if not self.client.closed:
                    self.client.data_received(event.payload)
            elif isinstance(event, websocket.Ping):
                self.transport.write(websocket.frame(event.payload, websocket.PONG))
            elif isinstance(event, websocket.Close):
                self.transport.write(websocket.close_frame(event.status, event.reason))
                self.transport.close()
                return

    def _handshake(self, data: bytes) -> None:
        assert self.transport is not None
        try:
            request = self.request.receive(data)
            if request is None:
                return
            answer = websocket.handshake(request)
            if self.request.rest():
                raise httpwire.HttpError(400, "client sent data before handshake is complete")
        except httpwire.HttpError as exc:
            log.info("websocket handshake error: %s", exc)
            headers = {"Sec-Websocket-Version": "13"}
            body = httpwire.response(exc.status, f"{exc}\n".encode(), "text/plain", headers)
            self.transport.write(body)
            self.transport.close()
            return
        if self._timer is not None:
            self._timer.cancel()
        self.transport.write(answer)
        from server_stub.client import Client

        self.client = Client(self.server)
        self.client.websocket = True
        self.client.connection_made(FramedTransport(self.transport))

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self.client is not None:
            self.client.connection_lost(exc)

    def pause_writing(self) -> None:
        pass

    def resume_writing(self) -> None:
        pass


class FramedTransport(asyncio.Transport):
    """What a WebSocket Client writes to: each write is one binary frame on the socket."""

    def __init__(self, raw: asyncio.Transport) -> None:
        super().__init__()
        self.raw = raw
        self._closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._closing:
            self.raw.write(websocket.frame(bytes(data)))

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self.raw.write(websocket.close_frame(websocket.NORMAL))
            self.raw.close()

    def abort(self) -> None:
        self._closing = True
        self.raw.abort()

    def is_closing(self) -> bool:
        return self._closing or self.raw.is_closing()

    def can_write_eof(self) -> bool:
        return False  # the close frame ends the stream

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.raw.get_extra_info(name, default)

    def get_write_buffer_size(self) -> int:
        return self.raw.get_write_buffer_size()

    def pause_reading(self) -> None:
        self.raw.pause_reading()

    def resume_reading(self) -> None:
        self.raw.resume_reading()

    def is_reading(self) -> bool:
        return self.raw.is_reading()


def snapshot(server: Server) -> views.ServerView:
    """What the monitoring endpoints show, read from the live server."""
    opts = server.options
    connections = []
    in_msgs, in_bytes, out_msgs, out_bytes = server.closed_stats
    for client in list(server.clients.values()):
        in_msgs += client.in_msgs
        in_bytes += client.in_bytes
        out_msgs += client.out_msgs
        out_bytes += client.out_bytes
        connections.append(_conn_view(client))
    subs = [
        _sub_view(sub)
        for account in server.router.accounts.values()
        for sub, _ in account.sublist.all()
        if getattr(sub.owner, "cid", None) is not None
    ]
    js = _js_view(server)
    enabled = {a.name for a in js.accounts} if js is not None else set()
    accounts = [
        views.AccountView(
            name,
            len(server.clients_of(account)),
            len(account.sublist),
            name in enabled,
            server.started,
        )
        for name, account in sorted(server.router.accounts.items())
    ]
    return views.ServerView(
        server_id=server.server_id,
        server_name=server.name,
        version=VERSION,
        go=f"python{sys.version_info.major}.{sys.version_info.minor}",
        host=opts.host,
        port=server.port,
        http_host=opts.http_host or opts.host,
        http_port=server.http_port,
        http_base_path=opts.http_base_path,
        options=opts,
        start=server.started,
        auth_required=bool(server.auth.auth_required),
        tls_required=opts.tls is not None,
        system_account=opts.system_account,
        connections=connections,
        total_connections=server.total_connections,
        subscriptions=subs,
        accounts=accounts,
        in_msgs=in_msgs,
        in_bytes=in_bytes,
        out_msgs=out_msgs,
        out_bytes=out_bytes,
        slow_consumers=server.slow_consumers,
        jetstream=js,
        websocket=_websocket_varz(server),
        http_req_stats=dict(server.http_req_stats),
        mem=_rss(),
        cores=os.cpu_count() or 1,
    )


def _websocket_varz(server: Server) -> dict[str, Any]:
    ws = server.options.websocket
    if ws is None:
        return {}
    out: dict[str, Any] = {"host": ws.host or server.options.host, "port": server.websocket_port}
    if ws.tls is None:
        out["no_tls"] = True
    if ws.handshake_timeout:
        out["handshake_timeout"] = round(ws.handshake_timeout * 1e9)
    return out


def _conn_view(client: Any) -> views.ConnView:
    transport = client.transport
    tls_version = None
    if client.tls and transport is not None:
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            tls_version = {"TLSv1.3": "1.3", "TLSv1.2": "1.2"}.get(ssl_object.version() or "")
    return views.ConnView(
        cid=client.cid,
        ip=client.host,
        port=client.port,
        start=client.start,
        last_activity=client.last_activity,
        rtt=client.rtt,
        pending_bytes=client.pending_bytes(),
        in_msgs=client.in_msgs,
        out_msgs=client.out_msgs,
        in_bytes=client.in_bytes,
        out_bytes=client.out_bytes,
        name=client.session.name,
        lang=client.session.lang,
        version=client.session.client_version,
        account=client.account.name if client.account is not None else "",
        user=client.identity.name if client.identity is not None else "",
        tls_version=tls_version,
        kind_type="websocket" if client.websocket else "nats",
        subs=tuple(_sub_view(sub) for sub in client.subs.values()),
    )


def _sub_view(sub: Any) -> views.SubView:
    return views.SubView(
        sub.account.name, sub.subject, sub.queue, sub.sid, sub.delivered, sub.owner.cid
    )


def _js_view(server: Server) -> views.JsView | None:
    if server.options.jetstream is None:
        return None
    from server_stub.jetstream.engine import JetStream

    engine = next((s for s in server.services if isinstance(s, JetStream)), None)
    if engine is None:
        return None
    accounts = []
    for name, account in sorted(engine.accounts.items()):
        streams = tuple(
            views.StreamView(
                stream.store.messages,
                stream.store.bytes,
                len(account.consumers.get(stream_name, {})),
                stream.config.storage,
            )
            for stream_name, stream in account.streams.items()
        )
        accounts.append(views.JsAccountView(name, account.api_total, account.api_errors, streams))
    config = engine.config
    return views.JsView(
        str(config.store_dir / "jetstream"),
        config.max_memory_store,
        config.max_file_store,
        tuple(accounts),
    )


def _rss() -> int:
    """Resident memory in bytes (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
