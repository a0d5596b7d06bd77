"""Operator-mode user checks: the rules nats-server applies between a user JWT and its account.

Pure: the caller passes the decoded claims, what the transport knows (ConnectionInfo) and the
time. Every refusal is an AuthError whose reason goes to the log; the client only ever sees
'Authorization Violation', as with nats-server.

Order follows nats-server's processClientOrLeafAuthentication: the signer must belong to the
account (a scoped key replaces the user's permissions with its expanded template), bearer tokens
skip the nonce, then revocation, source network, connection type and time windows.
"""

from __future__ import annotations

import datetime
import ipaddress
import re

from nscpy import jwt
from nscpy.jwt.revocations import is_revoked
from server_stub.auth import ConnectionInfo, Identity, verify_nonce
from server_stub.errors import AuthError
from server_stub.policy import Grant, Permissions, ResponsePermission

NANOS = 1_000_000_000


def _limit(account: int, user: int) -> int:
    """The smaller of two limits where -1 (or any negative) means unlimited."""
    if account < 0:
        return user
    if user < 0:
        return account
    return min(account, user)


def signer_scope(
    user: jwt.UserClaims, account: jwt.AccountClaims, strict_issued: bool
) -> tuple[bool, jwt.UserScope | None]:
    """(is the issuer a valid signer of account, its scope when it is a scoped key)."""
    if user.issuer == account.subject:
        # a strict operator's signing key issued the account: only its signing keys sign users
        return not strict_issued, None
    if user.issuer in account.signing_keys:
        return True, account.signing_keys.get_scope(user.issuer)
    return False, None


def authenticate_user(
    user: jwt.UserClaims,
    account: jwt.AccountClaims,
    options: dict[str, object],
    info: ConnectionInfo,
    *,
    strict_issued: bool = False,
) -> Identity:
    """Check a decoded user JWT against its (trusted, loaded) account; raises AuthError."""
    now = int(info.now)
    results = jwt.ValidationResults()
    user.validate(results, now=now)
    if results.is_blocking(include_time_checks=True):
        raise AuthError(
            f"user JWT is not valid: {'; '.join(i.description for i in results.issues)}"
        )
    if account.expires and account.expires <= now:
        raise AuthError(f"account {account.subject} has expired")
    ok, scope = signer_scope(user, account, strict_issued)
    if not ok:
        raise AuthError(f"user issuer {user.issuer} is not a signer of account {account.subject}")
    if scope is not None:
        problem = scope.scoped_signer_error(user)
        if problem:
            raise AuthError(problem)
    if user.bearer_token:
        if account.limits.disallow_bearer:
            raise AuthError("bearer tokens are disallowed by the account")
    else:
        verify_nonce(user.subject, options.get("sig"), info.nonce)
    if is_revoked(account.revocations, user.subject, user.issued_at):
        raise AuthError("user authentication revoked")
    limits: jwt.UserPermissionLimits = scope.template if scope is not None else user
    if scope is not None:
        limits = expand_template(scope.template, user, account)
    check_source(limits.src, info.host)
    check_connection_type(limits.allowed_connection_types, info.connection_type)
    window_left = time_window_left(limits.times, limits.times_location, info.now)
    if window_left is None:
        raise AuthError("user is not allowed to connect at this time")
    expires: float | None = float(user.expires) if user.expires else None
    if window_left != float("inf"):
        end = info.now + window_left
        expires = end if expires is None else min(expires, end)
    grant = grant_for(limits, account)
    return Identity(
        account=account.subject,
        name=user.name,
        permissions=grant.permissions,
        expires=expires,
        public_key=user.subject,
        issued_at=user.issued_at,
        claims=user,
        grant=grant,
    )


def grant_for(limits: jwt.UserPermissionLimits, account: jwt.AccountClaims) -> Grant:
    """Permissions (the account's defaults when the user has none) and effective limits."""
    perms = to_permissions(limits)
    if perms is None:
        perms = to_permissions(account.default_permissions)
    return Grant(
        perms,
        _limit(account.limits.subs, limits.subs),
        _limit(account.limits.payload, limits.payload),
    )


def to_permissions(p: jwt.Permissions) -> Permissions | None:
    """JWT permissions as policy Permissions; None when no list is set (nats-server's rule)."""
    has_pub = bool(p.pub.allow or p.pub.deny)
    has_sub = bool(p.sub.allow or p.sub.deny)
    if not (has_pub or has_sub or p.resp is not None):
        return None
    response = None
    if p.resp is not None:
        # nats-server's defaults for zero values: one reply within two minutes
        response = ResponsePermission(p.resp.max or 1, (p.resp.ttl / NANOS) or 120.0)
    return Permissions(
        p.pub.allow or None,
        p.pub.deny or None,
        p.sub.allow or None,
        p.sub.deny or None,
        response,
    )


_TEMPLATE = re.compile(r"\{\{\s*([a-z-]+)\(\s*([^)]*?)\s*\)\s*\}\}")


def _tag_values(tags: list[str], name: str) -> list[str]:
    prefix = name.lower() + ":"
    return [t[len(prefix) :] for t in tags if t.lower().startswith(prefix)]


def expand_subject(
    subject: str, user: jwt.UserClaims, account: jwt.AccountClaims
) -> list[str] | None:
    """All expansions of one template subject; None when a tag it names is missing."""
    out = [subject]
    for match in _TEMPLATE.finditer(subject):
        fn, arg = match.group(1), match.group(2)
        if fn == "name":
            values = [user.name]
        elif fn == "subject":
            values = [user.subject]
        elif fn == "account-name":
            values = [account.name]
        elif fn == "account-subject":
            values = [account.subject]
        elif fn == "tag":
            values = _tag_values(user.tags, arg)
        elif fn == "account-tag":
            values = _tag_values(account.tags, arg)
        else:
            raise AuthError(f"unknown template function {fn!r} in {subject!r}")
        if not values or any(not v for v in values):
            return None
        out = [s.replace(match.group(0), v, 1) for s in out for v in values]
    return out


def _expand_list(
    subjects: list[str], user: jwt.UserClaims, account: jwt.AccountClaims, drop_missing: bool
) -> list[str]:
    out: list[str] = []
    for subject in subjects:
        expanded = expand_subject(subject, user, account)
        if expanded is None:
            if drop_missing:
                continue
            raise AuthError(f"template {subject!r} names a tag the user or account lacks")
        out += [s for s in expanded if s not in out]
    return out


def expand_template(
    template: jwt.UserPermissionLimits, user: jwt.UserClaims, account: jwt.AccountClaims
) -> jwt.UserPermissionLimits:
    """A copy of a scope's template with {{...}} placeholders filled in from user and account."""
    limits = jwt.UserPermissionLimits.from_json_dict(template.to_json_dict(), "template")
    for perm in (limits.pub, limits.sub):
        # nats-server drops an allow entry naming a missing tag, but refuses the user when a
        # deny entry cannot be expanded: a lost deny would widen what the user may do
        perm.allow = _expand_list(perm.allow, user, account, drop_missing=True)
        perm.deny = _expand_list(perm.deny, user, account, drop_missing=False)
    return limits


def check_source(cidrs: list[str], host: str) -> None:
    """Refuse a client whose address is outside every `src` network (no list: anywhere)."""
    if not cidrs:
        return
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise AuthError(f"client address {host!r} is not an IP address") from None
    for cidr in cidrs:
        try:
            if addr in ipaddress.ip_network(cidr.strip(), strict=False):
                return
        except ValueError:
            continue
    raise AuthError(f"client address {host} is outside the allowed networks {cidrs}")


def check_connection_type(allowed: list[str], kind: str) -> None:
    """Refuse a connection type the user's allowed_connection_types leaves out."""
    if allowed and kind.upper() not in {a.upper() for a in allowed}:
        raise AuthError(f"connection type {kind} is not in {allowed}")


def _seconds(text: str) -> int:
    h, m, s = (int(part) for part in text.split(":"))
    return h * 3600 + m * 60 + s


def time_window_left(times: list[jwt.TimeRange], location: str, now: float) -> float | None:
    """Seconds left in the current `times` window; inf without windows, None outside them."""
    if not times:
        return float("inf")
    zone: datetime.tzinfo = datetime.timezone.utc
    if location and location != "UTC":
        import zoneinfo

        zone = zoneinfo.ZoneInfo(location)
    local = datetime.datetime.fromtimestamp(now, zone)
    of_day = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    for window in times:
        start, end = _seconds(window.start), _seconds(window.end)
        if start <= end:
            if start <= of_day < end:
                return end - of_day
        elif of_day >= start:  # a window across midnight
            return 86400 - of_day + end
        elif of_day < end:
            return end - of_day
    return None
