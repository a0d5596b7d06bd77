"""Accounts, subscriptions and message fan-out (no sockets, no asyncio).

Every account has its own subscription index: a message published in one account reaches only
subscriptions of that account, plus whatever its exports/imports route across (see `imports`).
Queue groups get one member per group per message, picked as nats-server picks it (a random
member, then the next ones in turn while they refuse).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from nscpy.jwt.subject import subject_matches
from server_stub.inbox import INBOX_PREFIX
from server_stub.sublist import MatchResult, SubList


class Subscriber(Protocol):
    """Whoever owns subscriptions: a client connection, or the server's internal client."""

    @property
    def echo(self) -> bool:
        """False: the owner's own messages are not delivered to it."""
        ...

    def deliver(
        self,
        sub: Subscription,
        subject: str,
        reply: str | None,
        headers: bytes | None,
        payload: bytes,
    ) -> bool:
        """Queue one message for this subscription; False when it was refused (e.g. denied)."""
        ...


class Subscription:
    """One SUB: the owner, its sid, pattern, queue group and optional auto-unsubscribe count."""

    __slots__ = ("owner", "sid", "sid_b", "subject", "queue", "account", "max_msgs", "delivered")

    def __init__(
        self, owner: Subscriber, sid: str, subject: str, queue: str | None, account: Account
    ) -> None:
        self.owner = owner
        self.sid = sid
        self.sid_b = sid.encode("utf-8", "surrogateescape")
        self.subject = subject
        self.queue = queue
        self.account = account
        self.max_msgs: int | None = None
        self.delivered = 0

    def __repr__(self) -> str:
        return f"Subscription({self.subject!r}, queue={self.queue!r}, sid={self.sid!r})"


@dataclass
class StreamImport:
    """Messages published in `exporter` on `subject` also reach this account as `to`."""

    exporter: Account
    subject: str
    to: str


@dataclass
class ServiceImport:
    """Requests published here on `subject` go to `exporter` as `to`; replies may come back."""

    exporter: Account
    subject: str
    to: str
    multi: bool = False  # Stream/Chunked response type: every reply crosses back, not just one


@dataclass(eq=False)
class Account:
    """An isolated subject space."""

    name: str
    sublist: SubList[Subscription] = field(default_factory=SubList)
    # importer account, import -> pattern in *this* (exporting) account
    stream_exports_to: list[tuple[Account, StreamImport]] = field(default_factory=list)
    service_imports: list[ServiceImport] = field(default_factory=list)
    max_subs: int = -1
    max_payload: int = -1
    max_conns: int = -1
    claims: Any = None  # the decoded account JWT in operator mode
    clients: set[Any] = field(default_factory=set)
    is_system: bool = False
    slow_consumers: int = 0  # clients of this account dropped as slow consumers
    # reply subject of a forwarded service request -> (the importer waiting for the answer,
    # whether the route stays open for more replies)
    response_routes: dict[str, tuple[Account, bool]] = field(default_factory=dict)

    def __hash__(self) -> int:
        return id(self)


DeliveryHook = Callable[[Subscription], None]


class Router:
    """Publishes into accounts and follows stream/service imports across them."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self.accounts: dict[str, Account] = {}
        self._rng = rng or random.Random()
        self.random = self._rng.random  # [0, 1): queue_start's draw

    def account(self, name: str) -> Account:
        """The account called `name`, created empty on first use."""
        acc = self.accounts.get(name)
        if acc is None:
            acc = self.accounts[name] = Account(name)
        return acc

    def clear_imports(self, account: Account) -> None:
        """Drop every import into `account` (before re-applying an updated account JWT)."""
        account.service_imports.clear()
        for other in self.accounts.values():
            other.stream_exports_to[:] = [e for e in other.stream_exports_to if e[0] is not account]

    def subscribe(self, sub: Subscription) -> None:
        """Register a subscription in its account."""
        sub.account.sublist.insert(sub.subject, sub, sub.queue)

    def unsubscribe(self, sub: Subscription) -> None:
        """Remove a subscription from its account."""
        sub.account.sublist.remove(sub.subject, sub, sub.queue)

    def publish(
        self,
        account: Account,
        subject: str,
        reply: str | None,
        headers: bytes | None,
        payload: bytes,
        sender: Subscriber | None = None,
        _depth: int = 0,
    ) -> int:
        """Deliver a message; returns how many subscriptions received it."""
        sublist = account.sublist
        # a reply to a request inbox (each published to once) is matched by its inbox's parent
        result = (
            sublist.match_inbox(subject)
            if subject.startswith(INBOX_PREFIX)
            else sublist.match(subject)
        )
        count = self._fan_out(result, subject, reply, headers, payload, sender)
        if account.response_routes:
            route = account.response_routes.get(subject)
            if route is not None:  # a service answer goes back to the importing account
                back, multi = route
                if not multi:  # a Singleton service answers once; its route closes
                    del account.response_routes[subject]
                count += self.publish(back, subject, reply, headers, payload, None, _depth + 1)
        if _depth < 4:
            # imports can chain (A exports to B which re-exports), but never loop forever
            for importer, imp in account.stream_exports_to:
                if subject_matches(imp.subject, subject):
                    mapped = _map_subject(subject, imp.subject, imp.to)
                    count += self.publish(
                        importer, mapped, reply, headers, payload, None, _depth + 1
                    )
            for svc in account.service_imports:
                if subject_matches(svc.to, subject):
                    mapped = _map_subject(subject, svc.to, svc.subject)
                    if reply:
                        if len(svc.exporter.response_routes) > 10_000:
                            svc.exporter.response_routes.clear()  # unanswered requests
                        svc.exporter.response_routes[reply] = (account, svc.multi)
                    count += self.publish(
                        svc.exporter, mapped, reply, headers, payload, None, _depth + 1
                    )
        return count

    def _fan_out(
        self,
        result: MatchResult[Subscription],
        subject: str,
        reply: str | None,
        headers: bytes | None,
        payload: bytes,
        sender: Subscriber | None,
    ) -> int:
        """Deliver to a match result's subscriptions (one member per queue group); how many
        received it. No imports or service routes: `publish` follows those."""
        count = 0
        for sub in result.plain:
            owner = sub.owner
            if owner is sender and not owner.echo:
                continue
            if owner.deliver(sub, subject, reply, headers, payload):
                count += 1
                self.count_delivery(sub)
        if result.queues:
            for members in result.queues.values():
                if self.deliver_to_queue(members, subject, reply, headers, payload, sender):
                    count += 1
        return count

    def deliver_to_queue(
        self,
        members: list[Subscription],
        subject: str,
        reply: str | None,
        headers: bytes | None,
        payload: bytes,
        sender: Subscriber | None,
    ) -> bool:
        """One member of a queue group gets the message: as nats-server, a random one first,
        then the next ones in turn while they refuse it (denied, closed). True: delivered."""
        size = len(members)
        start = self.queue_start(size)
        for index in range(start, start + size):
            sub = members[index % size]
            owner = sub.owner
            if owner is sender and not owner.echo:
                continue
            if owner.deliver(sub, subject, reply, headers, payload):
                self.count_delivery(sub)
                return True
        return False

    def queue_start(self, size: int) -> int:
        """The queue group member (of `size`) tried first: a random one, as nats-server's
        rand.Int31n (Client._publish_raw draws it inline, from `random` too)."""
        return int(self.random() * size)

    def count_delivery(self, sub: Subscription) -> None:
        """One more message delivered to `sub`; at its UNSUB maximum it is removed."""
        # counted always, as nats-server's sub.nm: /subsz shows it, and an UNSUB with a
        # maximum counts the messages already delivered
        sub.delivered += 1
        if sub.max_msgs is not None and sub.delivered >= sub.max_msgs:
            self.unsubscribe(sub)


def _map_subject(subject: str, src: str, dst: str) -> str:
    """Rewrite subject matched by `src` into `dst` (same wildcard positions); literal dst as is."""
    if src == dst:
        return subject
    stoks = subject.split(".")
    ptoks = src.split(".")
    dtoks = dst.split(".")
    if "*" not in dtoks and ">" not in dtoks:
        return dst
    wild = [stoks[i] for i, t in enumerate(ptoks) if t == "*"]
    rest = stoks[len(ptoks) - 1 :] if ptoks[-1] == ">" else []
    out: list[str] = []
    for tok in dtoks:
        if tok == "*" and wild:
            out.append(wild.pop(0))
        elif tok == ">":
            out.extend(rest)
        else:
            out.append(tok)
    return ".".join(out)


def add_stream_import(importer: Account, exporter: Account, subject: str, to: str) -> None:
    """Deliver exporter's messages on `subject` into importer as `to` (same wildcards)."""
    exporter.stream_exports_to.append((importer, StreamImport(exporter, subject, to)))


def add_service_import(
    importer: Account, exporter: Account, subject: str, to: str, *, multi: bool = False
) -> None:
    """Requests published in importer on `to` reach exporter's service `subject`.

    `multi` (a Stream or Chunked export) lets any number of replies back, not only the first.
    """
    importer.service_imports.append(ServiceImport(exporter, subject, to, multi))
