"""Typed server options; `config.py` builds them from a nats-server style config file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server_stub.protocol import DEFAULT_MAX_CONTROL_LINE, DEFAULT_MAX_PAYLOAD


@dataclass
class TLSOptions:
    """The `tls {}` block."""

    cert_file: Path
    key_file: Path
    ca_file: Path | None = None
    verify: bool = False
    timeout: float = 2.0
    handshake_first: bool = False


@dataclass
class WebSocketOptions:
    """The `websocket {}` block: its own listener; TLS from its own `tls {}` or none."""

    host: str = ""  # "" means the client listener's host
    port: int = 0  # -1: any free port
    tls: TLSOptions | None = None
    handshake_timeout: float = 0.0  # 0: not set (the stub then allows 2 seconds)


@dataclass
class AccountSpec:
    """A config-file account: its exports and imports, as written (validated at start-up)."""

    name: str
    exports: list[Any] = field(default_factory=list)
    imports: list[Any] = field(default_factory=list)
    # the account's `jetstream` limits (server_stub.jetstream.JsLimits); None: not enabled
    jetstream: Any = None


@dataclass
class ServerOptions:
    """Everything the server needs; defaults are nats-server's."""

    host: str = "127.0.0.1"
    port: int = 4222
    server_name: str = ""
    max_payload: int = DEFAULT_MAX_PAYLOAD
    max_control_line: int = DEFAULT_MAX_CONTROL_LINE
    max_connections: int = 64 * 1024
    max_pending: int = 64 * 1024 * 1024  # outgoing bytes before a client is a slow consumer
    write_deadline: float = 10.0  # seconds a socket may take to accept a flushed batch
    ping_interval: float = 120.0
    ping_max: int = 2
    # a client's first PING (nats-server's firstClientPingInterval), shortened to ping_interval
    # when that is smaller, then put off by up to a fifth more (see inbound.first_ping_delay)
    first_ping: float = 2.0
    auth_timeout: float = 2.0
    tls: TLSOptions | None = None
    # auth: filled by config.py (see auth.py); None means no authentication
    authorization: Any = None
    operator: Any = None  # operator-mode settings (see operator.py)
    accounts: list[AccountSpec] = field(default_factory=list)
    system_account: str = "$SYS"
    jetstream: dict[str, Any] | None = None
    # monitoring: http_port 0 is off, -1 any free port (nats-server's RANDOM_PORT)
    http_host: str = ""  # "" means the client listener's host
    http_port: int = 0
    http_base_path: str = ""
    websocket: WebSocketOptions | None = None
    lame_duck_duration: float = 120.0  # SIGUSR2: clients are closed over this long...
    lame_duck_grace_period: float = 10.0  # ...after waiting this long
    debug: bool = False  # debug/trace: log at INFO (connections, protocol errors)
    logtime: bool = True
    log_file: Path | None = None
    pid_file: Path | None = None
