"""The internal services a Server starts once it is bound: config accounts, operator mode's
resolver, JetStream.

This module, not server.py, knows the services: they see the server only through hooks.py
(ServiceHost), so none of them imports server.py and the import graph has no cycle.
"""

from __future__ import annotations

from typing import Any

from server_stub import errors
from server_stub.accounts import apply_accounts
from server_stub.hooks import OperatorHooks, ServiceHost


def start_services(server: ServiceHost, operator: OperatorHooks | None = None) -> None:
    """Wire config accounts, attach operator mode (its resolver answers on $SYS subjects), and
    start JetStream when the config has a `jetstream {}` block."""
    options = server.options
    apply_accounts(server.router, options.accounts, options.system_account)
    if operator is not None:
        operator.attach(server)
    if options.jetstream is not None:
        start_jetstream(server, options.jetstream)


def start_jetstream(server: ServiceHost, block: dict[str, Any]) -> None:
    """Build the JetStream engine for the server's `jetstream {}` block (kept in services)."""
    try:
        from server_stub.jetstream.host import attach
    except ImportError:
        raise errors.ConfigError("jetstream {} is configured but not available") from None
    server.services.append(attach(server, block))
