"""What a push, list or delete came back with, per server, and the check that turns it into errors.

A report never raises by itself: the CLI first renders every server's line, then calls `check()`
to get the exit code's error. `expected` is the number of servers the caller knows about (or
None: then the best-answered request sets the bar, so a node that missed one account shows up).
"""

from __future__ import annotations

from dataclasses import dataclass

from nscpy.resolver.errors import NoReplies, PartialReplies, ServerRefused
from nscpy.resolver.replies import ServerReply

__all__ = ["AccountPush", "PushReport", "ListReport", "DeleteReport", "account_push"]


def _refused(what: str, replies: tuple[ServerReply, ...]) -> None:
    for reply in replies:
        if not reply.ok:
            raise ServerRefused(
                f"nats-server {reply.server.label} refused {what}: {reply.message!r}"
            )


def _partial(what: str, got: int, expected: int) -> None:
    if got == 0:
        raise NoReplies(f"no nats-server replied to {what} before the timeout")
    if got < expected:
        raise PartialReplies(f"{got} of {expected} servers replied to {what}")


@dataclass(frozen=True)
class AccountPush:
    """The replies to pushing one account."""

    account: str
    replies: tuple[ServerReply, ...]

    @property
    def ok(self) -> bool:
        """At least one reply and every reply a success."""
        return bool(self.replies) and all(r.ok for r in self.replies)


def account_push(account: str, replies: list[ServerReply]) -> AccountPush:
    """An AccountPush from a list of parsed replies."""
    return AccountPush(account=account, replies=tuple(replies))


@dataclass(frozen=True)
class PushReport:
    """Per account, per server: what each server said about each pushed JWT."""

    accounts: tuple[AccountPush, ...]
    expected: int | None = None

    @property
    def servers(self) -> list[str]:
        """Names of every server that replied to any push, sorted."""
        return sorted({r.server.label for a in self.accounts for r in a.replies})

    @property
    def ok(self) -> bool:
        """True when check() would not raise."""
        try:
            self.check()
        except (ServerRefused, PartialReplies, NoReplies):
            return False
        return True

    def summary(self) -> str:
        """nsc's closing line, e.g. 'pushed 2 accounts to a total of 3 nats-server'."""
        n = len(self.accounts)
        return (
            f"pushed {n} account{'s' if n != 1 else ''} "
            f"to a total of {len(self.servers)} nats-server"
        )

    def lines(self) -> list[str]:
        """One line per account per server reply, for people."""
        out: list[str] = []
        for push in self.accounts:
            if not push.replies:
                out.append(f"{push.account}: no reply")
            out.extend(f"{push.account}: {r.describe()}" for r in push.replies)
        return out

    def check(self) -> None:
        """Raise ServerRefused, NoReplies or PartialReplies for the first problem found."""
        for push in self.accounts:
            _refused(f"account {push.account}", push.replies)
        bar = self.expected or max((len(a.replies) for a in self.accounts), default=0)
        for push in self.accounts:
            _partial(f"the push of account {push.account}", len(push.replies), bar)


@dataclass(frozen=True)
class ListReport:
    """Each server's list of stored account public keys."""

    replies: tuple[ServerReply, ...]
    expected: int | None = None

    @property
    def by_server(self) -> dict[str, list[str]]:
        """Server name → sorted account keys it stores (successful replies only)."""
        out: dict[str, list[str]] = {}
        for reply in self.replies:
            if reply.ok and isinstance(reply.data, list):
                out[reply.server.label] = sorted(str(a) for a in reply.data)
        return out

    @property
    def accounts(self) -> list[str]:
        """Every account key any server stores, sorted."""
        return sorted({a for keys in self.by_server.values() for a in keys})

    def check(self) -> None:
        """Raise for a refusal, no reply, or fewer replies than expected."""
        _refused("the account list request", self.replies)
        _partial("the account list request", len(self.replies), self.expected or 1)


@dataclass(frozen=True)
class DeleteReport:
    """Each server's answer to a delete request."""

    replies: tuple[ServerReply, ...]
    expected: int | None = None

    def lines(self) -> list[str]:
        """One line per server reply."""
        return [r.describe() for r in self.replies]

    def check(self) -> None:
        """Raise for a refusal, no reply, or fewer replies than expected (nsc compares to LIST)."""
        _refused("the delete request", self.replies)
        _partial("the delete request", len(self.replies), self.expected or 1)
