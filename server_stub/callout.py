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

check_response is pure; Callout holds the timer and the internal subscription.
"""

from __future__ import annotations

import logging
import os
import ssl
import time
from dataclasses import dataclass, field
from typing import Any

from nscpy import jwt, keys
from server_stub.auth import ConnectionInfo, Identity
from server_stub.confparse import ConfMap
from server_stub.errors import AuthError, ConfigError
from server_stub.jwtauth import (
    check_connection_type,
    expand_template,
    grant_for,
    signer_scope,
    time_window_left,
    to_permissions,
)

log = logging.getLogger("server_stub")

CALLOUT_SUBJECT = "$SYS.REQ.USER.AUTH"
REQUEST_AUDIENCE = "nats-authorization-request"
XKEY_HEADER = "Nats-Server-Xkey"

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


@dataclass
class ServerSide:
    """What the request needs from the server: its keys and identity."""

    key: keys.KeyPair
    xkey: keys.CurveKeyPair
    name: str
    host: str
    version: str
    auth_timeout: float
    config_accounts: set[str] = field(default_factory=set)


def _tls_info(ssl_object: Any, ca_file: Any) -> jwt.ClientTLS:
    tls = jwt.ClientTLS()
    version = ssl_object.version() or ""
    tls.version = version.removeprefix("TLSv")  # Go's tlsVersion: "1.3"
    cipher = ssl_object.cipher()
    tls.cipher = cipher[0] if cipher else ""
    leaf = ssl_object.getpeercert(binary_form=True)
    if leaf is None:
        return tls
    pems = [ssl.DER_cert_to_PEM_cert(leaf)]
    verified = ssl_object.context.verify_mode == ssl.CERT_REQUIRED
    if verified:
        pems += _issuers(leaf, ca_file)
        tls.verified_chains = [[_go_pem(p) for p in pems]]
    else:
        tls.certs = [_go_pem(pems[0])]
    return tls


def _go_pem(pem: str) -> str:
    # Go's pem.Encode: 64-column base64 and a trailing newline, as Python writes it
    return pem if pem.endswith("\n") else pem + "\n"


def _issuers(leaf_der: bytes, ca_file: Any) -> list[str]:
    """The CA certificates from ca_file that complete the leaf's chain (Go's VerifiedChains)."""
    if ca_file is None:
        return []
    try:
        from cryptography import x509
    except ImportError:  # without it the chain holds the leaf alone
        return []
    current = x509.load_der_x509_certificate(leaf_der)
    cas = x509.load_pem_x509_certificates(open(ca_file, "rb").read())
    chain: list[str] = []
    while current.issuer != current.subject:
        parent = next((c for c in cas if c.subject == current.issuer), None)
        if parent is None:
            break
        from cryptography.hazmat.primitives.serialization import Encoding

        chain.append(parent.public_bytes(Encoding.PEM).decode())
        current = parent
    return chain


def build_request(
    need: CalloutNeeded,
    server: ServerSide,
    options: dict[str, Any],
    info: ConnectionInfo,
    *,
    cid: int,
    user_nkey: str,
    tls: jwt.ClientTLS | None,
) -> tuple[bytes, dict[str, str] | None]:
    """The request payload (sealed when an xkey is set) and its headers."""
    claims = jwt.AuthorizationRequestClaims.new(need.issuer)
    claims.audience = REQUEST_AUDIENCE
    claims.user_nkey = user_nkey
    sid = claims.server_id
    sid.name, sid.host, sid.id, sid.version = (
        server.name,
        server.host,
        server.key.public_key,
        server.version,
    )
    if need.xkey:
        sid.xkey = server.xkey.public_key
    now = int(info.now)
    claims.expires = int(info.now + server.auth_timeout)

    def opt(key: str) -> str:
        value = options.get(key)
        return value if isinstance(value, str) else ""

    ci = claims.client_info
    ci.host, ci.id, ci.user, ci.name = info.host, cid, need.auth_user, opt("name")
    ci.name_tag, ci.kind, ci.type = need.name_tag, "Client", "nats"
    ci.tags = list(need.tags)
    co = claims.connect_opts
    co.jwt, co.nkey, co.sig, co.auth_token = opt("jwt"), opt("nkey"), opt("sig"), opt("auth_token")
    co.user, co.password, co.name = opt("user"), opt("pass"), opt("name")
    co.lang, co.version = opt("lang"), opt("version")
    proto = options.get("protocol", 0)
    co.protocol = proto if isinstance(proto, int) and not isinstance(proto, bool) else 0
    if co.sig and info.nonce:
        ci.nonce = info.nonce
    claims.client_tls = tls
    token = jwt.encode(claims, server.key, iat=now).encode("ascii")
    if not need.xkey:
        return token, None
    return server.xkey.seal(token, need.xkey), {XKEY_HEADER: server.xkey.public_key}


class CalloutRejected(Exception):  # noqa: N818 - carries nats-server's log text
    """The response does not admit the client; the message is nats-server's reason."""


def _title(text: str) -> str:
    return text[:1].upper() + text[1:]


def _decode_response(
    payload: bytes, need: CalloutNeeded, server: ServerSide, user_nkey: str
) -> tuple[jwt.UserClaims, bool]:
    account = need.account
    if not payload:
        raise CalloutRejected(
            f'auth callout violation: "no reason supplied" on account "{account}"'
        )
    encrypted = False
    if need.xkey and not payload.startswith(b"eyJ"):
        try:
            payload = server.xkey.open(payload, need.xkey)
        except (keys.NKeyError, ValueError) as exc:
            raise CalloutRejected(
                f'error decrypting auth callout response on account "{account}": {exc}'
            ) from None
        encrypted = True
    try:
        response = jwt.decode(payload.decode("ascii", "replace"))
    except jwt.JWTError as exc:
        raise CalloutRejected(str(exc)) from None
    if not isinstance(response, jwt.AuthorizationResponseClaims):
        raise CalloutRejected("not an authorization response claim")
    results = jwt.ValidationResults()
    response.validate(results, now=int(time.time()))
    if results.issues:
        raise CalloutRejected(
            f"authorization response had validation errors: {results.issues[0].description}"
        )
    if response.subject != user_nkey:
        raise CalloutRejected(
            "auth callout violation: auth callout response is not for expected user"
        )
    if response.audience != server.key.public_key:
        raise CalloutRejected("auth callout violation: auth callout response is not for server")
    if response.error:
        raise CalloutRejected(f"auth callout service returned an error: {response.error}")
    if need.operator_mode and not encrypted:
        # observed on 2.15.1: the signer itself must be the account or one of its signing
        # keys (an issuer_account naming the callout account does not vouch for a stranger)
        claims = need.lookup(account)
        known = response.issuer == account or (
            claims is not None and response.issuer in claims.signing_keys
        )
        if not known or response.issuer_account not in ("", account):
            raise CalloutRejected("auth callout signing key is unknown")
    try:
        user = jwt.decode(response.jwt)
    except jwt.JWTError as exc:
        raise CalloutRejected(str(exc)) from None
    if not isinstance(user, jwt.UserClaims):
        raise CalloutRejected("not user claim")
    return user, encrypted


def check_response(
    payload: bytes,
    need: CalloutNeeded,
    server: ServerSide,
    user_nkey: str,
    info: ConnectionInfo,
) -> Identity:
    """The Identity a response grants; CalloutRejected with nats-server's reason otherwise."""
    user, _ = _decode_response(payload, need, server, user_nkey)
    if user.proxy_required:
        raise CalloutRejected("Proxy required")
    results = jwt.ValidationResults()
    user.validate(results, now=int(info.now))
    if results.issues:
        raise _Plain(f"Error validating user JWT: {results.issues[0].description}")
    if user.subject != user_nkey:
        raise _Plain(
            f'Expected authorized user of "{user_nkey}" but got "{user.subject}"'
            f' on account "{need.account}"'
        )
    window = time_window_left(user.times, user.times_location, info.now)
    if window is None:
        raise CalloutRejected(
            f'authorized user on account "{need.account}" outside of valid connect times'
        )
    try:
        check_connection_type(user.allowed_connection_types, info.connection_type)
    except AuthError:
        raise CalloutRejected(
            f'authorized user on account "{need.account}" using invalid connection type'
        ) from None
    expires: float | None = float(user.expires) if user.expires else None
    if window != float("inf"):
        end = info.now + window
        expires = end if expires is None else min(expires, end)
    if need.operator_mode:
        return _operator_identity(user, need, expires)
    return _config_identity(user, need, server, expires)


def _issuer_account(user: jwt.UserClaims, need: CalloutNeeded) -> str:
    issuer = user.issuer
    if user.issuer_account:
        if not need.operator_mode:
            raise CalloutRejected(
                f'error non operator mode account "{need.account}": attempted to use issuer_account'
            )
        issuer = user.issuer_account
    if issuer != need.issuer:
        if not need.operator_mode:
            raise CalloutRejected(
                f'wrong issuer for auth callout response on account "{need.account}",'
                f' expected "{need.issuer}" got "{issuer}"'
            )
        if not (list(need.allowed_accounts) == ["*"] or issuer in need.allowed_accounts):
            raise CalloutRejected(
                f'account "{user.issuer}" not permitted as valid account option for auth'
                f' callout for account "{need.account}"'
            )
    return issuer


def _with_callout_deny(perms: jwt.Permissions, placed: str, need: CalloutNeeded) -> Any:
    # nats-server denies publishing to the callout subject to users placed in the callout account
    if placed != need.account:
        return to_permissions(perms)
    pub = jwt.Permission(list(perms.pub.allow), [*perms.pub.deny, CALLOUT_SUBJECT])
    return to_permissions(jwt.Permissions(pub, perms.sub, perms.resp))


def _config_identity(
    user: jwt.UserClaims, need: CalloutNeeded, server: ServerSide, expires: float | None
) -> Identity:
    _issuer_account(user, need)
    placement = user.audience  # config mode places the user by the JWT's aud
    if placement not in server.config_accounts:
        raise CalloutRejected(
            f'no valid account "{placement}" for auth callout response on account'
            f' "{need.account}": account not found'
        )
    return Identity(
        placement,
        user.name,
        _with_callout_deny(user, placement, need),
        expires,
        public_key=user.subject,
        issued_at=user.issued_at,
    )


def _operator_identity(
    user: jwt.UserClaims, need: CalloutNeeded, expires: float | None
) -> Identity:
    placement = _issuer_account(user, need)
    target = need.lookup(placement)
    if target is None:
        raise CalloutRejected(
            f'no valid account "{placement}" for auth callout response on account'
            f' "{need.account}": account not found'
        )
    ok, scope = signer_scope(user, target, False)
    if not ok:
        raise CalloutRejected(f'user JWT issuer "{user.issuer}" is not known')
    limits: jwt.UserPermissionLimits = user
    if scope is not None:
        problem = scope.scoped_signer_error(user)
        if problem:
            raise CalloutRejected(f"user JWT is not valid: {problem}")
        limits = expand_template(scope.template, user, target)
    grant = grant_for(limits, target)
    if placement == need.account:
        has_own = to_permissions(limits) is not None
        base = limits if has_own else target.default_permissions
        grant = type(grant)(
            _with_callout_deny(base, placement, need), grant.max_subs, grant.max_payload
        )
    return Identity(
        account=placement,
        name=user.name,
        permissions=grant.permissions,
        expires=expires,
        public_key=user.subject,
        issued_at=user.issued_at,
        claims=user,
        extra={"grant": grant, "signer": user.issuer},
    )


class _Plain(CalloutRejected):
    """A reason nats-server logs as written (not title-cased)."""


def log_reason(exc: CalloutRejected) -> str:
    """The text nats-server logs (and puts in its auth error event) for a rejection."""
    return str(exc) if isinstance(exc, _Plain) else _title(str(exc))


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
            tls = _tls_info(ssl_object, ca)
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
