"""What plugs into the asyncio Server, and what it sees of it: typed interfaces, no code.

The Server (server.py) starts services (the account resolver, JetStream) and hands them itself
as a `ServiceHost`; operator mode adds `OperatorHooks` (called at start-up and once a user is
known). Services import this module, never server.py, so the import graph has no cycle: the
server depends on nothing that depends on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from server_stub.bus import MessageBus

if TYPE_CHECKING:
    import asyncio

    from server_stub.auth import Identity
    from server_stub.options import ServerOptions
    from server_stub.policy import Grant
    from server_stub.router import Account, Router


class Service(Protocol):
    """Something the server keeps alive while it runs and stops with it."""

    def close(self) -> None:
        """Release timers and files; the server is shutting down."""
        ...


class ConnectedClient(Protocol):
    """A client connection as services see it (operator mode revokes and re-grants)."""

    @property
    def identity(self) -> Identity | None:
        """Who the client authenticated as (None before CONNECT)."""
        ...

    def apply_grant(self, grant: Grant) -> None:
        """Replace the connection's permissions and limits (an updated account JWT)."""
        ...

    def fail(self, text: str) -> None:
        """Send -ERR text and close."""
        ...

    def close(self) -> None:
        """Close after what is already queued, without an -ERR."""
        ...


class ServiceHost(MessageBus, Protocol):
    """The server as its services see it: the MessageBus, the router, timers, clients."""

    options: ServerOptions
    router: Router
    name: str
    server_id: str
    # the client connection whose input is being handled (an Inbound), None between reads
    reading: Any
    services: list[Service]
    # called with an account name whenever operator mode loads, updates or deletes it
    account_hooks: list[Callable[[str], None]]

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
        """MessageBus.publish; without a reply, the MSG line's reply field is `no_reply`:
        "" (empty: the system account's answers) or None (none: JetStream's messages)."""
        ...

    def publish_replies(
        self, account: str, replies: Sequence[tuple[str, bytes]], no_reply: str | None = ""
    ) -> None:
        """MessageBus.publish_replies, with publish's `no_reply`."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> asyncio.TimerHandle:
        """Run callback after `delay` seconds."""
        ...

    def account_changed(self, name: str) -> None:
        """Tell the services that an account's JWT was loaded, replaced or deleted."""
        ...

    def clients_of(self, account: Account) -> Sequence[ConnectedClient]:
        """Connected clients bound to an account."""
        ...


class OperatorHooks(Protocol):
    """Operator mode's part in the server's life: start-up, and admission of a known user."""

    def attach(self, server: ServiceHost) -> None:
        """At start-up: load the system account and answer the resolver's $SYS subjects."""
        ...

    def admit(self, identity: Identity, account: Account, connected: int) -> None:
        """Account-wide checks once the user is known (active connections); raises AuthError."""
        ...
