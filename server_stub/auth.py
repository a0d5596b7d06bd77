"""Authentication: who a CONNECT belongs to, which account it joins, with which permissions.

No sockets and no clock: the server passes what it knows about the connection (remote address,
TLS, nonce, current time) in a ConnectionInfo and gets back an Identity or an AuthError.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass
from typing import Any, Protocol

from nscpy import keys
from server_stub.errors import AuthError
from server_stub.policy import Grant, Permissions

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
    # operator mode: permissions and limits from the user JWT and its account; None: a config
    # user, limited by its account's limits
    grant: Grant | None = None


class Authenticator(Protocol):
    """Turns a CONNECT into an Identity."""

    auth_required: bool
    needs_nonce: bool
    # the user a client without credentials becomes; nats-server also binds it to a client
    # that starts without CONNECT, and then announces no auth_required
    no_auth_user: str | None

    def authenticate(self, options: dict[str, Any], info: ConnectionInfo) -> Identity:
        """The identity for these CONNECT options; raises AuthError."""
        ...


class NoAuth:
    """No authentication configured: everyone joins the global account."""

    auth_required = False
    needs_nonce = False
    no_auth_user: str | None = None

    def authenticate(self, options: dict[str, Any], info: ConnectionInfo) -> Identity:
        """Accept anyone."""
        return Identity()


@dataclass
class User:
    """A user from the config file: a name+password or an nkey, bound to an account."""

    account: str
    name: str = ""
    password: str | None = None
    nkey: str | None = None
    permissions: Permissions | None = None


class ConfigAuth:
    """Config-file authentication: a token, users with passwords, and nkey users."""

    auth_required = True

    def __init__(
        self, users: list[User], token: str | None = None, no_auth_user: str | None = None
    ) -> None:
        self.by_name = {u.name: u for u in users if u.password is not None}
        self.by_nkey = {u.nkey: u for u in users if u.nkey is not None}
        self.token = token
        self.needs_nonce = bool(self.by_nkey)
        # the user a client without credentials becomes (config.py checks that it exists)
        self.no_auth_user = no_auth_user

    def authenticate(self, options: dict[str, Any], info: ConnectionInfo) -> Identity:
        """Check nkey signature, user/password or token, in nats-server's order."""
        nkey = options.get("nkey")
        if self.by_nkey and isinstance(nkey, str) and nkey:
            user = self.by_nkey.get(nkey)
            if user is None:
                raise AuthError(f"unknown nkey {nkey}")
            verify_nonce(nkey, options.get("sig"), info.nonce)
            return Identity(user.account, nkey, user.permissions, public_key=nkey)
        if self.no_auth_user is not None and not any(
            options.get(key) for key in ("user", "pass", "auth_token")
        ):
            user = self.by_name[self.no_auth_user]
            return Identity(user.account, user.name, user.permissions)
        name = options.get("user")
        if self.by_name and isinstance(name, str) and name:
            user = self.by_name.get(name)
            password = options.get("pass")
            if (
                user is None
                or user.password is None
                or not isinstance(password, str)
                or not hmac.compare_digest(user.password.encode(), password.encode())
            ):
                raise AuthError(f"bad user or password for {name!r}")
            return Identity(user.account, name, user.permissions)
        token = options.get("auth_token")
        if self.token is not None and isinstance(token, str):
            if hmac.compare_digest(self.token.encode(), token.encode()):
                return Identity(GLOBAL_ACCOUNT, "token")
        raise AuthError("no credentials matched")


_RAW_URL = re.compile(r"^[A-Za-z0-9_-]*$")


def decode_sig(sig: object) -> bytes:
    """A CONNECT sig: nats-server tries base64 RawURL first, then standard base64."""
    if not isinstance(sig, str) or not sig:
        raise AuthError("missing signature")
    if _RAW_URL.match(sig) and len(sig) % 4 != 1:
        return base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    try:
        return base64.b64decode(sig, validate=True)
    except (binascii.Error, ValueError):
        raise AuthError("signature is neither RawURL nor standard base64") from None


def verify_nonce(public_key: str, sig: object, nonce: str | None) -> None:
    """Check that `sig` is public_key's signature over the nonce text."""
    if nonce is None:
        raise AuthError("no nonce was issued")
    raw = decode_sig(sig)
    try:
        keys.from_public_key(public_key).verify(nonce.encode(), raw)
    except keys.NKeyError as exc:
        raise AuthError(f"signature check failed: {exc}") from None
