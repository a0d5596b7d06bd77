"""The in-process message bus: how internal services ($SYS resolver, JetStream) talk to clients.

Internal subscriptions live in the server's own subscription index, so a client PUB that matches
one is handed to the handler synchronously, and whatever the handler publishes goes out to clients
through the normal routing path (permissions of the internal client do not apply).

A handler gets a BusMessage (headers parsed). A raw handler (`subscribe_raw`) gets the message's
parts as the router has them, the header block unparsed: JetStream's stream subjects take every
publish this way, where building a BusMessage and parsing headers per message would cost more
than the handler's own work when most publishes carry none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from server_stub.headers import parse_headers
from server_stub.router import Subscription

log = logging.getLogger("server_stub")


@dataclass(frozen=True, slots=True)
class BusMessage:
    """One message as an internal handler sees it."""

    account: str  # account name/public key the message was published in
    subject: str
    reply: str | None
    headers: dict[str, str] | None  # parsed NATS/1.0 headers, None when plain PUB
    payload: bytes


Handler = Callable[[BusMessage], None]
# account, subject, reply (None when empty), NATS/1.0 header block (None: plain PUB), payload
RawHandler = Callable[[str, str, str | None, bytes | None, bytes], None]


class MessageBus(Protocol):
    """What the server offers to internal services."""

    def subscribe(self, account: str, subject: str, handler: Handler) -> int:
        """Subscribe a handler in `account`; returns an id for `unsubscribe`."""
        ...

    def subscribe_raw(self, account: str, subject: str, handler: RawHandler) -> int:
        """Subscribe a raw handler (header block unparsed); returns an id for `unsubscribe`."""
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

    def publish_replies(self, account: str, replies: Sequence[tuple[str, bytes]]) -> None:
        """publish(account, inbox, payload) for each (inbox, payload), in order (the server
        queues a client's consecutive answers at once)."""
        ...


class InternalClient:
    """The server's own client: owns the internal subscriptions and calls their handlers."""

    echo = True

    def __init__(self) -> None:
        self.handlers: dict[int, tuple[Subscription, Handler]] = {}
        # keyed by the subscription itself: no sid parsing per message on the hot path
        self.raw_handlers: dict[Subscription, RawHandler] = {}

    def deliver(
        self,
        sub: Subscription,
        subject: str,
        reply: str | None,
        headers: bytes | None,
        payload: bytes,
    ) -> bool:
        """Call the handler synchronously; its exceptions are logged, never raised to clients."""
        raw = self.raw_handlers.get(sub)
        if raw is not None:
            try:
                raw(sub.account.name, subject, reply or None, headers, payload)
            except Exception:  # a broken service must not take the client's connection down
                log.exception("internal handler for %s failed", sub.subject)
            return True
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
