"""What the monitoring endpoints read: a snapshot of the server as plain data (no sockets).

server_stub.listeners takes it from the live server per request; server_stub.monitor renders it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SubView:
    """One subscription."""

    account: str
    subject: str
    queue: str | None
    sid: str
    msgs: int
    cid: int


@dataclass(frozen=True)
class ConnView:
    """One client connection."""

    cid: int
    ip: str
    port: int
    start: float
    last_activity: float
    rtt: float | None  # seconds; None before the first PONG
    pending_bytes: int
    in_msgs: int
    out_msgs: int
    in_bytes: int
    out_bytes: int
    name: str
    lang: str
    version: str
    account: str
    user: str
    tls_version: str | None
    kind_type: str  # "nats" or "websocket"
    subs: tuple[SubView, ...] = ()


@dataclass(frozen=True)
class StreamView:
    """What /jsz counts of one stream."""

    messages: int
    bytes: int
    consumers: int
    storage: str  # "file" or "memory"


@dataclass(frozen=True)
class JsAccountView:
    """One JetStream-enabled account."""

    name: str
    api_total: int
    api_errors: int
    streams: tuple[StreamView, ...] = ()


@dataclass(frozen=True)
class JsView:
    """The JetStream engine: its settings and accounts."""

    store_dir: str
    max_memory: int
    max_storage: int
    accounts: tuple[JsAccountView, ...] = ()


@dataclass(frozen=True)
class AccountView:
    """One account."""

    name: str
    client_connections: int
    subscriptions: int
    jetstream: bool
    update_time: float


@dataclass
class ServerView:
    """A snapshot of the server, taken per request."""

    server_id: str
    server_name: str
    version: str
    go: str
    host: str
    port: int
    http_host: str
    http_port: int
    http_base_path: str
    options: Any  # ServerOptions
    start: float
    auth_required: bool
    tls_required: bool
    system_account: str
    connections: list[ConnView]
    total_connections: int
    subscriptions: list[SubView]
    accounts: list[AccountView]
    in_msgs: int = 0
    out_msgs: int = 0
    in_bytes: int = 0
    out_bytes: int = 0
    slow_consumers: int = 0
    jetstream: JsView | None = None
    websocket: dict[str, Any] = field(default_factory=dict)
    http_req_stats: dict[str, int] = field(default_factory=dict)
    mem: int = 0
    cores: int = 0
