"""The in-process message bus: how internal services ($SYS resolver, JetStream) talk to clients.

Internal subscriptions live in the server's own subscription index, so a client PUB that matches
one is handed to the handler synchronously, and whatever the handler publishes goes out to clients
through the normal routing path (permissions of the internal client do not apply).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class BusMessage:
    """One message as an internal handler sees it."""

    account: str  # account name/public key the message was published in
    subject: str
    reply: str | None
    headers: dict[str, str] | None  # parsed NATS/1.0 headers, None when plain PUB
    payload: bytes


Handler = Callable[[BusMessage], None]


class MessageBus(Protocol):
    """What the server offers to internal services."""

    def subscribe(self, account: str, subject: str, handler: Handler) -> int:
        """Subscribe a handler in `account`; returns an id for `unsubscribe`."""
        ...

    def unsubscribe(self, sid: int) -> None:
        """Remove an internal subscription; unknown ids are ignored."""
        ...

    def publish(
        self,
        account: str,
        subject: str,
        payload: bytes,
        *,
        reply: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Publish into `account` as the server's internal client."""
        ...
