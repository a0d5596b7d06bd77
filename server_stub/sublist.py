"""A subscription index: a trie over subject tokens with '*' and '>' branches, plus a match cache.

Matching walks at most one literal branch, one '*' branch and one '>' per level, so the cost grows
with the subject's depth and the number of matching subscriptions, not with the total number of
subscriptions. Results for published subjects are cached, and every insert or remove does O(1)
amortised work on that cache: a literal subscription can only change the entry for its own
subject, so only that entry is dropped; a wildcard one could change any entry, so the whole cache
is dropped (each entry was paid for by one match, so clearing costs no more than filling did).
Scanning the cache for the entries a wildcard matches would be exact, but in Python that costs
~1 ms per SUB with a full cache, and a SUB storm would stall every other client (nats-server
runs the same scan in Go, where it costs microseconds). Reply inboxes (`_INBOX.…`) are not
cached: each is published to about once (a request's reply, a JetStream ack), so caching one
only costs the eviction of an entry that would have been used again.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Generic, TypeVar

from server_stub.inbox import INBOX_PREFIX

T = TypeVar("T", bound=Hashable)

_CACHE_SIZE = 1024


class _Node(Generic[T]):
    __slots__ = ("children", "pwc", "fwc", "plain", "queues")

    def __init__(self) -> None:
        self.children: dict[str, _Node[T]] = {}
        self.pwc: _Node[T] | None = None
        self.fwc: _Node[T] | None = None
        self.plain: dict[T, None] = {}  # an insertion-ordered set
        self.queues: dict[str, dict[T, None]] = {}

    def empty(self) -> bool:
        return not (self.children or self.pwc or self.fwc or self.plain or self.queues)


class MatchResult(Generic[T]):
    """Matching subscriptions: plain ones, and the members of each queue group. `direct` is
    for the owner of the index to keep what it derives from the result (the server keeps its
    delivery plan there): a cached result is replaced, never changed, when a subscription
    comes or goes, so whatever hangs on it is dropped with it."""

    __slots__ = ("plain", "queues", "direct")

    def __init__(self, plain: list[T], queues: dict[str, list[T]]) -> None:
        self.plain = plain
        self.queues = queues
        self.direct: Any = None

    def __bool__(self) -> bool:
        return bool(self.plain or self.queues)


class SubList(Generic[T]):
    """Subscriptions keyed by subject pattern; `match(subject)` finds the ones a message reaches."""

    def __init__(self, cache_size: int = _CACHE_SIZE) -> None:
        self._root: _Node[T] = _Node()
        # published subject -> match result; read it (a hit with no call), never write it
        self.cache: dict[str, MatchResult[T]] = {}
        self.cache_size = cache_size
        # match_inbox: inbox parent -> the result every inbox under it gets (see there)
        self._inbox_parents: dict[str, MatchResult[T]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def insert(self, subject: str, item: T, queue: str | None = None) -> None:
        """Add `item` under a (valid) subject pattern, optionally in a queue group."""
        node = self._root
        literal = True
        for token in subject.split("."):
            if token == "*":
                literal = False
                if node.pwc is None:
                    node.pwc = _Node()
                node = node.pwc
            elif token == ">":
                literal = False
                if node.fwc is None:
                    node.fwc = _Node()
                node = node.fwc
            else:
                child = node.children.get(token)
                if child is None:
                    child = node.children[token] = _Node()
                node = child
        if queue is None:
            if item in node.plain:
                return
            node.plain[item] = None
        else:
            members = node.queues.setdefault(queue, {})
            if item in members:
                return
            members[item] = None
        self._count += 1
        self._invalidate(subject, literal)

    def remove(self, subject: str, item: T, queue: str | None = None) -> bool:
        """Remove `item`; returns False when it was not there."""
        path: list[tuple[_Node[T], str]] = []
        node: _Node[T] | None = self._root
        literal = True
        for token in subject.split("."):
            assert node is not None
            path.append((node, token))
            if token == "*":
                literal = False
                node = node.pwc
            elif token == ">":
                literal = False
                node = node.fwc
            else:
                node = node.children.get(token)
            if node is None:
                return False
        assert node is not None
        if queue is None:
            if node.plain.pop(item, 1) is not None:
                return False
        else:
            members = node.queues.get(queue)
            if members is None or members.pop(item, 1) is not None:
                return False
            if not members:
                del node.queues[queue]
        self._count -= 1
        self._invalidate(subject, literal)
        # prune empty branches so long-running servers with churning inboxes do not grow
        for parent, token in reversed(path):
            if token == "*":
                child = parent.pwc
            elif token == ">":
                child = parent.fwc
            else:
                child = parent.children.get(token)
            if child is None or not child.empty():
                break
            if token == "*":
                parent.pwc = None
            elif token == ">":
                parent.fwc = None
            else:
                del parent.children[token]
        return True

    def _invalidate(self, pattern: str, literal: bool) -> None:
        # See the module docstring: O(1) amortised, never a scan of the cache.
        if self._inbox_parents:
            self._inbox_parents.clear()
        if self.cache:
            if literal:
                self.cache.pop(pattern, None)
            else:
                self.cache.clear()

    def match(self, subject: str) -> MatchResult[T]:
        """Subscriptions matching a literal subject (cached; do not mutate the result)."""
        hit = self.cache.get(subject)
        if hit is not None:
            return hit
        plain: list[T] = []
        queues: dict[str, list[T]] = {}
        tokens = subject.split(".")
        if "" not in tokens:  # nats-server's Match finds nothing for `a..b`, `.a`, `a.` or ``
            self._collect(self._root, tokens, 0, plain, queues)
        result = MatchResult(plain, queues)
        if subject.startswith(INBOX_PREFIX):
            return result
        if len(self.cache) >= self.cache_size:
            # drop the oldest entry; dicts keep insertion order
            del self.cache[next(iter(self.cache))]
        self.cache[subject] = result
        return result

    def match_inbox(self, subject: str) -> MatchResult[T]:
        """`match` for a reply inbox (`_INBOX.<prefix>.<token>`, nats.go's and nats.py's
        request and JetStream ack replies), cached by its parent (all but the last token)
        while the last token cannot change the result: no node the parent reaches has a
        literal child, which holds for the clients' one wildcard subscription per connection.
        Any insert or remove drops these entries. The result is shared by every inbox of the
        parent: do not mutate it, nor keep anything subject-specific on it."""
        parent, _, last = subject.rpartition(".")
        hit = self._inbox_parents.get(parent)
        if hit is not None and last:
            return hit
        result = self._match_uncached(subject)
        if last and self._last_token_free(parent):
            if len(self._inbox_parents) >= self.cache_size:
                self._inbox_parents.clear()
            self._inbox_parents[parent] = result
        return result

    def _match_uncached(self, subject: str) -> MatchResult[T]:
        plain: list[T] = []
        queues: dict[str, list[T]] = {}
        tokens = subject.split(".")
        if "" not in tokens:
            self._collect(self._root, tokens, 0, plain, queues)
        return MatchResult(plain, queues)

    def _last_token_free(self, parent: str) -> bool:
        """True when `parent.X` matches the same subscriptions for every token X."""
        tokens = parent.split(".")
        if not parent or "" in tokens:
            return False
        nodes = [self._root]
        for token in tokens:  # every node a subject under `parent` can reach, as _collect walks
            reached: list[_Node[T]] = []
            for node in nodes:
                child = node.children.get(token)
                if child is not None:
                    reached.append(child)
                if node.pwc is not None:
                    reached.append(node.pwc)
            nodes = reached
        return not any(node.children for node in nodes)

    def _collect(
        self,
        node: _Node[T],
        tokens: list[str],
        index: int,
        plain: list[T],
        queues: dict[str, list[T]],
    ) -> None:
        # nats-server's matchLevel order: at each level '>' first, then what '*' leads to;
        # at the last token the literal node before the '*' node (clients see the MSGs of one
        # message in this order)
        last = len(tokens)
        while index < last:
            if node.fwc is not None:
                _add(node.fwc, plain, queues)
            pwc = node.pwc
            child = node.children.get(tokens[index])
            if index + 1 == last:
                if child is not None:
                    _add(child, plain, queues)
                if pwc is not None:
                    _add(pwc, plain, queues)
                return
            if pwc is not None:
                self._collect(pwc, tokens, index + 1, plain, queues)
            if child is None:
                return
            node = child
            index += 1
        _add(node, plain, queues)

    def all(self) -> list[tuple[T, str | None]]:
        """Every (item, queue) pair; for diagnostics and tests."""
        out: list[tuple[T, str | None]] = []
        stack = [self._root]
        while stack:
            node = stack.pop()
            out.extend((item, None) for item in node.plain)
            for queue, members in node.queues.items():
                out.extend((item, queue) for item in members)
            stack.extend(node.children.values())
            stack.extend(n for n in (node.pwc, node.fwc) if n is not None)
        return out


def _add(node: _Node[T], plain: list[T], queues: dict[str, list[T]]) -> None:
    if node.plain:
        plain.extend(node.plain)
    for queue, members in node.queues.items():
        queues.setdefault(queue, []).extend(members)
