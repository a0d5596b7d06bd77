"""Publish/subscribe permissions: allow and deny lists held in sublists, deny wins.

Semantics follow nats-server: a missing allow list allows everything; an empty one allows nothing.
A subscription's subject is matched as a literal against the permission patterns, so `foo.*` is
allowed by `foo.*` or `foo.>` but not by `foo.bar`. A wildcard subscription that overlaps a deny
pattern is accepted, and the denied subjects are filtered out on delivery instead. Response
permissions let a client publish to the reply subject of a request it received.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from server_stub.sublist import SubList

DEFAULT_RESPONSE_MAX = 1
DEFAULT_RESPONSE_TTL = 120.0  # seconds; nats-server's DEFAULT_ALLOW_RESPONSE_EXPIRATION


@dataclass(frozen=True)
class ResponsePermission:
    """How many replies (max) may go to a received reply subject, within ttl seconds."""

    max_msgs: int = DEFAULT_RESPONSE_MAX
    ttl: float = DEFAULT_RESPONSE_TTL


def _sublist(patterns: Iterable[str] | None) -> SubList[str] | None:
    if patterns is None:
        return None
    sl: SubList[str] = SubList()
    for entry in patterns:
        # "subject queue" limits a permission to one queue group, as in nats-server
        subject, _, queue = entry.strip().partition(" ")
        sl.insert(subject, entry, queue.strip() or None)
    return sl


class Permissions:
    """One user's permissions; lists are None when absent (everything allowed)."""

    def __init__(
        self,
        pub_allow: Iterable[str] | None = None,
        pub_deny: Iterable[str] | None = None,
        sub_allow: Iterable[str] | None = None,
        sub_deny: Iterable[str] | None = None,
        response: ResponsePermission | None = None,
    ) -> None:
        if response is not None and pub_allow is None:
            # nats-server: response permissions alone mean "publish only replies"
            pub_allow = []
        self.pub_allow = _sublist(pub_allow)
        self.pub_deny = _sublist(pub_deny)
        self.sub_allow = _sublist(sub_allow)
        self.sub_deny = _sublist(sub_deny)
        self.response = response
        self._pub_cache: dict[str, bool] = {}

    def can_publish(self, subject: str) -> bool:
        """True when the allow/deny lists permit publishing on a literal subject."""
        hit = self._pub_cache.get(subject)
        if hit is not None:
            return hit
        allowed = True
        if self.pub_allow is not None:
            allowed = bool(self.pub_allow.match(subject).plain)
        if allowed and self.pub_deny is not None:
            allowed = not self.pub_deny.match(subject).plain
        if len(self._pub_cache) > 4096:
            self._pub_cache.clear()
        self._pub_cache[subject] = allowed
        return allowed

    def can_subscribe(self, subject: str, queue: str | None = None) -> bool:
        """True when the lists permit this SUB (subject may hold wildcards)."""
        allowed = True
        if self.sub_allow is not None:
            r = self.sub_allow.match(subject)
            allowed = bool(r.plain)
            if queue and r.queues:
                allowed = queue in r.queues
        if allowed and self.sub_deny is not None:
            r = self.sub_deny.match(subject)
            allowed = not r.plain
            if queue and r.queues:
                allowed = queue not in r.queues
        return allowed

    def can_deliver(self, subject: str) -> bool:
        """False when a message reached a wildcard subscription on a subject the deny list bars."""
        return self.sub_deny is None or not self.sub_deny.match(subject).plain


@dataclass(frozen=True)
class Grant:
    """What an operator-mode user may do once admitted: permissions and per-connection limits
    (subscriptions, payload bytes), each the smaller of the account's and the user's; -1 is
    unlimited."""

    permissions: Permissions | None
    max_subs: int = -1
    max_payload: int = -1
