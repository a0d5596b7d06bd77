"""Auth callout, as nats-server 2.15.1 does it (server/auth_callout.go, server/auth.go).

Theory of operation. An authenticator that finds a client must be delegated raises
CalloutNeeded instead of returning an Identity: in config mode every client except the
`auth_callout { auth_users }` (and except users bound by the config to an account outside a
non-empty `allowed_accounts`); in operator mode every user of an account whose JWT lists
`authorization.auth_users`, except those users. The server then pauses that client's input and
runs a Callout: it signs an authorization_request JWT with its server key (sealed to the
configured xkey, with its own xkey in `Nats-Server-Xkey`), publishes it on `$SYS.REQ.USER.AUTH`
in the callout account with a private reply inbox, and waits up to the auth timeout. The
response is checked as nats-server checks it; any failure (or the timeout) closes the client
with 'Authorization Violation', and the reason (nats-server's text) goes to the log.

The request is built in callout_request and the response checked in callout_response (both
pure); Callout here holds the timer and the internal subscription.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from nscpy import jwt, keys
from server_stub.auth import ConnectionInfo, Identity
from server_stub.callout_request import CALLOUT_SUBJECT, build_request, tls_info
from server_stub.callout_response import CalloutRejected, check_response, log_reason
from server_stub.confparse import ConfMap
from server_stub.errors import AuthError, ConfigError

log = logging.getLogger("server_stub")

_KEYS = {"issuer", "account", "acc", "auth_users", "users", "xkey", "key", "allowed_accounts"}


@dataclass(frozen=True)
class CalloutConfig:
    """Config mode: the `authorization { auth_callout { ... } }` block."""

    issuer: str
    auth_users: tuple[str, ...]
    account: str = "$G"
    xkey: str = ""
    allowed_accounts: tuple[str, ...] = ()


def _string_list(block: ConfMap, key: str, what: str) -> tuple[str, ...]:
    value = block[key]
    if not isinstance(value, list):
        raise ConfigError(
            f"{block.where(key)}: Expected {what} field to be an array, got {type(value).__name__}"
        )
    return tuple(str(v) for v in value)


def parse_auth_callout(block: Any) -> CalloutConfig:
    """The auth_callout block, with nats-server's checks and error texts (parseAuthCallout)."""
    if not isinstance(block, ConfMap):
        raise ConfigError(f"Expected authorization callout to be a map/struct, got {block!r}")
    issuer = account = xkey = ""
    users: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()
    for key in block:
        if key in block.variables:
            continue
        name = key.lower()
        if name not in _KEYS:
            raise ConfigError(
                f"{block.where(key)}: Unknown field {key!r} parsing authorization callout"
            )
        if name == "issuer":
            issuer = str(block[key])
            if not (keys.is_valid_public_key(issuer) and issuer.startswith("A")):
                raise ConfigError(
                    f"{block.where(key)}: Expected callout user to be a valid public account"
                    f' nkey, got "{issuer}"'
                )
        elif name in ("account", "acc"):
            account = str(block[key])
        elif name in ("auth_users", "users"):
            users = _string_list(block, key, "auth_users")
        elif name in ("xkey", "key"):
            xkey = str(block[key])
            if not (keys.is_valid_public_key(xkey) and xkey.startswith("X")):
                raise ConfigError(
                    f"{block.where(key)}: Expected callout xkey to be a valid public xkey,"
                    f' got "{xkey}"'
                )
        else:
            allowed = _string_list(block, key, "allowed accounts")
    if not issuer:
        raise ConfigError(
            f"{block.source}: Authorization callouts require an issuer to be specified"
        )
    if not users:
        raise ConfigError(
            f"{block.source}: Authorization callouts require authorized users to be specified"
        )
    return CalloutConfig(issuer, users, account or "$G", xkey, allowed)


def raw_auth_user(options: dict[str, Any], jwt_subject: str = "") -> str:
    """nats-server's getRawAuthUser: nkey, user, the JWT's key, or a redacted token."""
    for key in ("nkey", "user"):
        value = options.get(key)
        if isinstance(value, str) and value:
            return value
    if options.get("jwt"):
        return jwt_subject
    if options.get("auth_token"):
        return "[REDACTED]"
    return ""


class CalloutNeeded(Exception):  # noqa: N818 - a signal to the server, not an error
    """Raised by an authenticator: this client is decided by the auth callout service."""

    def __init__(
        self,
        account: str,
        issuer: str,
        *,
        operator_mode: bool,
        xkey: str = "",
        allowed_accounts: tuple[str, ...] | list[str] = (),
        auth_user: str = "",
        name_tag: str = "",
        tags: list[str] | None = None,
        lookup: Any = None,
    ) -> None:
        super().__init__(f"auth callout in account {account}")
        self.account = account  # where the request is sent (the callout account)
        self.issuer = issuer  # config: auth_callout issuer; operator: the account key
        self.operator_mode = operator_mode
        self.xkey = xkey
        self.allowed_accounts = tuple(allowed_accounts)
        self.auth_user = auth_user
        self.name_tag = name_tag
        self.tags = list(tags or [])  # operator mode: the presented user JWT's tags
        self.lookup = lookup  # operator mode: account key -> AccountClaims | None


class ConfigCalloutAuth:
    """Config mode: the config's own authenticator, with everyone but the auth users delegated."""

    auth_required = True
    no_auth_user: str | None = None  # everyone without credentials goes to the callout

    def __init__(self, base: Any, config: CalloutConfig) -> None:
        self.base = base
        self.config = config
        self.needs_nonce = bool(base.needs_nonce)

    def authenticate(self, options: dict[str, Any], info: ConnectionInfo) -> Identity:
        """The config user for auth users (and accounts not delegated); else CalloutNeeded."""
        identity: Identity | None = None
        error: AuthError | None = None
        try:
            identity = self.base.authenticate(options, info)
        except AuthError as exc:
            error = exc
        user = raw_auth_user(options)
        allowed = self.config.allowed_accounts
        bound = identity is not None and identity.account != "$G"
        if user in self.config.auth_users or (
            bound and allowed and identity.account not in allowed  # type: ignore[union-attr]
        ):
            if identity is None:
                assert error is not None
                raise error
            return identity
        raise CalloutNeeded(
            self.config.account,
            self.config.issuer,
            operator_mode=False,
            xkey=self.config.xkey,
            allowed_accounts=allowed,
            auth_user=user,
        )


def operator_callout(
    user: jwt.UserClaims, account: jwt.AccountClaims, lookup: Any, now: float
) -> CalloutNeeded | None:
    """Operator mode: the callout for a user of `account`, or None when it has none / bypasses."""
    auth = account.authorization
    if not auth.auth_users or user.subject in auth.auth_users:
        return None
    results = jwt.ValidationResults()
    user.validate(results, now=int(now))
    if results.is_blocking(include_time_checks=True):  # nats-server refuses before the callout
        raise AuthError(f"user JWT is not valid: {'; '.join(results.errors())}")
    return CalloutNeeded(
        account.subject,
        account.subject,
        operator_mode=True,
        xkey=auth.xkey,
        allowed_accounts=auth.allowed_accounts,
        auth_user=user.subject,
        name_tag=user.name,
        tags=user.tags,
        lookup=lookup,
    )


class Callout:
    """One request in flight for one client: reply subscription, timer, and the outcome."""

    def __init__(
        self,
        server: Any,
        client: Any,
        need: CalloutNeeded,
        options: dict[str, Any],
        info: ConnectionInfo,
    ) -> None:
        self.server = server
        self.client = client
        self.need = need
        self.info = info
        self.user_nkey = keys.create_pair(keys.Prefix.USER).public_key
        self.side = server.callout_side()
        transport = client.transport
        ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
        tls = None
        if ssl_object is not None:
            ca = server.options.tls.ca_file if server.options.tls is not None else None
            tls = tls_info(ssl_object, ca)
        payload, headers = build_request(
            need, self.side, options, info, cid=client.cid, user_nkey=self.user_nkey, tls=tls
        )
        self.reply = f"$SYS._INBOX.{server.inbox_prefix}.{os.urandom(8).hex()}"
        self.sid = server.subscribe(need.account, self.reply, self._on_reply)
        self.timer = server.call_later(self.side.auth_timeout, self._timeout)
        self.done = False
        server.publish(need.account, CALLOUT_SUBJECT, payload, reply=self.reply, headers=headers)

    def _finish(self) -> None:
        self.done = True
        self.timer.cancel()
        self.server.unsubscribe(self.sid)

    def _on_reply(self, msg: Any) -> None:
        if self.done:
            return
        self._finish()
        try:
            identity = check_response(msg.payload, self.need, self.side, self.user_nkey, self.info)
        except CalloutRejected as exc:
            log.warning("cid %d: %s", self.client.cid, log_reason(exc))
            self.client.callout_done(None)
            return
        self.client.callout_done(identity)

    def _timeout(self) -> None:
        if self.done:
            return
        self._finish()
        log.info(
            'cid %d: Authorization callout response not received in time on account "%s"',
            self.client.cid,
            self.need.account,
        )
        self.client.callout_done(None)
