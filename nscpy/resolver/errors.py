"""Errors from talking to a nats-server resolver: each message says what failed and what to try."""

from __future__ import annotations

from nscpy.errors import NscError

__all__ = [
    "ResolverError",
    "NoServerReachable",
    "AuthorizationFailed",
    "NoSystemAccount",
    "NoSystemSeed",
    "NoResponders",
    "NoReplies",
    "ServerRefused",
    "PartialReplies",
    "BadReply",
]


class ResolverError(NscError):
    """Any failure while pushing to or pulling from a nats-server resolver."""


class NoServerReachable(ResolverError):
    """No server in the list accepted a connection (refused, timed out, TLS failed)."""


class AuthorizationFailed(ResolverError):
    """A server answered but rejected the user JWT or its nonce signature."""


class NoSystemAccount(ResolverError):
    """The operator names no system account, so there is nobody to push as."""


class NoSystemSeed(ResolverError):
    """No seed is available to sign a temporary system user, and no system user was given."""


class NoResponders(ResolverError):
    """The server has no subscriber on the request subject (503 no responders)."""


class NoReplies(ResolverError):
    """The request went out but no server replied before the timeout."""


class ServerRefused(ResolverError):
    """A server answered with an error; the message quotes the server's description."""


class PartialReplies(ResolverError):
    """Fewer servers answered than expected, e.g. a cluster node that is down or not synced."""


class BadReply(ResolverError):
    """A server reply that is not the JSON shape the resolver protocol defines."""
