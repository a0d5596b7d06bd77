"""Authentication: who a CONNECT belongs to, which account it joins, with which permissions.

No sockets and no clock: the server passes what it knows about the connection (remote address,
TLS, nonce, current time) in a ConnectionInfo and gets back an Identity or an AuthError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from server_stub.policy import Permissions

GLOBAL_ACCOUNT = "$G"


@dataclass(frozen=True)
class ConnectionInfo:
    """What the transport knows about a client when its CONNECT arrives."""

    host: str
    port: int
    nonce: str | None
    now: float
    tls: bool = False
    connection_type: str = "STANDARD"


@dataclass
class Identity:
    """The outcome of a successful authentication."""

    account: str = GLOBAL_ACCOUNT
    name: str = ""
    permissions: Permissions | None = None
    expires: float | None = None  # unix time at which the connection must be closed
    public_key: str | None = None  # the user nkey (nkey users and operator mode)
    issued_at: int | None = None  # the user JWT's iat, for revocation checks
    claims: Any = None  # the decoded user JWT in operator mode
    extra: dict[str, Any] = field(default_factory=dict)


class Authenticator(Protocol):
    """Turns a CONNECT into an Identity."""

    auth_required: bool
    needs_nonce: bool

    def authenticate(self, options: dict[str, Any], info: ConnectionInfo) -> Identity:
        """The identity for these CONNECT options; raises AuthError."""
        ...


class NoAuth:
    """No authentication configured: everyone joins the global account."""

    auth_required = False
    needs_nonce = False

    def authenticate(self, options: dict[str, Any], info: ConnectionInfo) -> Identity:
        """Accept anyone."""
        return Identity()
