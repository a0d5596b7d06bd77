"""Auth callout responses checked as nats-server checks them: pure.

Every refusal is a CalloutRejected whose text is what nats-server logs (title-cased, as its
titleCase does, except the few it formats itself); the client only sees 'Authorization
Violation'. Config mode places the user by the user JWT's `aud` (an account name) and allows
only the configured issuer; operator mode places it by `issuer_account` (or the issuer), which
must be the callout account or one of `allowed_accounts`, and checks the signer against that
account's keys (scoped keys replace the permissions with their template).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from nscpy import jwt, keys
from server_stub.auth import ConnectionInfo, Identity
from server_stub.callout_request import CALLOUT_SUBJECT, ServerSide
from server_stub.errors import AuthError
from server_stub.jwtauth import (
    check_connection_type,
    expand_template,
    grant_for,
    signer_scope,
    time_window_left,
    to_permissions,
)
from server_stub.policy import Grant

if TYPE_CHECKING:
    from server_stub.callout import CalloutNeeded


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
        text = payload.decode("ascii", "replace")
        response = jwt.decode_kind(text, jwt.AuthorizationResponseClaims)
    except jwt.WrongKind:
        raise CalloutRejected("not an authorization response claim") from None
    except jwt.JWTError as exc:
        raise CalloutRejected(str(exc)) from None
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
        user = jwt.decode_user(response.jwt)
    except jwt.WrongKind:
        raise CalloutRejected("not user claim") from None
    except jwt.JWTError as exc:
        raise CalloutRejected(str(exc)) from None
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
        grant = Grant(_with_callout_deny(base, placement, need), grant.max_subs, grant.max_payload)
    return Identity(
        account=placement,
        name=user.name,
        permissions=grant.permissions,
        expires=expires,
        public_key=user.subject,
        issued_at=user.issued_at,
        claims=user,
        grant=grant,
    )


class _Plain(CalloutRejected):
    """A reason nats-server logs as written (not title-cased)."""


def log_reason(exc: CalloutRejected) -> str:
    """The text nats-server logs (and puts in its auth error event) for a rejection."""
    return str(exc) if isinstance(exc, _Plain) else _title(str(exc))
