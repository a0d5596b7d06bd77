"""edit operator: signing keys, strict signing-key mode, system account, URLs, tags and dates.

The operator JWT is always re-signed by the operator identity key (operator JWTs are self-signed).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nscpy import keys
from nscpy.actions.edit_common import (
    check_system_account,
    edit_tags,
    require_valid,
    signing_key_value,
)
from nscpy.actions.entities import Saved, load_account, load_operator, load_user
from nscpy.actions.errors import UsageProblem
from nscpy.actions.operators import resign_operator
from nscpy.actions.verified import verified_accounts
from nscpy.actions.workspace import Workspace
from nscpy.jwt import OperatorClaims
from nscpy.jwt.operator import validate_operator_service_url
from nscpy.store.journal import all_or_nothing


@dataclass
class OperatorEdit:
    """What `edit operator` was asked for (None / empty = unchanged)."""

    name: str | None = None
    signing_keys: list[str] = field(default_factory=list)
    rm_signing_keys: list[str] = field(default_factory=list)
    require_signing_keys: bool | None = None
    system_account: str | None = None
    account_server_url: str | None = None
    service_urls: list[str] = field(default_factory=list)
    rm_service_urls: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    rm_tags: list[str] = field(default_factory=list)
    start: int | None = None
    expiry: int | None = None


_URL_SCHEMES = ("http", "https", "nats", "tls", "ws", "wss")


def edit_operator(ws: Workspace, spec: OperatorEdit) -> Saved:
    """Apply spec to the operator JWT, check nsc's strict-mode rules, and re-sign it."""
    operator = ws.operator_name(spec.name)
    claims = load_operator(ws, operator)
    new_keys = [signing_key_value(ws, v, keys.Prefix.OPERATOR) for v in spec.signing_keys]
    notes: list[str] = []
    for public_key, _ in new_keys:
        if public_key == claims.subject:
            raise UsageProblem("the operator identity key cannot also be one of its signing keys")
        if public_key not in claims.signing_keys:
            claims.signing_keys.append(public_key)
    for key in spec.rm_signing_keys:
        if key not in claims.signing_keys:
            raise UsageProblem(f"{key} is not a signing key of operator {operator!r}")
        claims.signing_keys.remove(key)
        users_of = _accounts_issued_by(ws, operator, key)
        if users_of:
            notes.append(
                f"accounts signed by the removed key must be re-signed "
                f"('nscpy edit account NAME --adopt'): {', '.join(users_of)}"
            )
    if spec.system_account is not None:
        claims.system_account = _system_account(ws, operator, claims, spec.system_account)
    if spec.account_server_url is not None:
        claims.account_server_url = _account_server_url(spec.account_server_url)
    _edit_service_urls(claims, spec)
    claims.tags = edit_tags(claims.tags, spec.tags, spec.rm_tags)
    if spec.start is not None:
        claims.not_before = spec.start
    if spec.expiry is not None:
        claims.expires = spec.expiry
    if spec.require_signing_keys is not None:
        claims.strict_signing_key_usage = spec.require_signing_keys
    if claims.strict_signing_key_usage:
        _check_strict(ws, operator, claims)
    require_valid(claims, ws.now(), f"operator {operator!r}")
    # a generated key's seed goes first, so the JWT never names a key whose seed is lost; a
    # failed edit takes the seed back
    with all_or_nothing():
        for _, pair in new_keys:
            if pair is not None:
                ws.keystore.put(pair.seed)
        resign_operator(ws, operator, claims)
    for public_key, pair in new_keys:
        if pair is not None:
            notes.append(f"generated signing key {public_key} (seed stored)")
    return Saved("operator", operator, claims.subject, ws.paths.operator_jwt(operator), notes=notes)


def _accounts_issued_by(ws: Workspace, operator: str, key: str) -> list[str]:
    return [
        entry.name for entry in verified_accounts(ws.store, operator) if entry.claims.issuer == key
    ]


def _system_account(ws: Workspace, operator: str, op: OperatorClaims, value: str) -> str:
    if value == "":
        return ""
    account = ws.account_name(operator, value)
    acct = load_account(ws, operator, account)
    probe = OperatorClaims(subject=op.subject, system_account=acct.subject)
    check_system_account(probe, acct)
    return acct.subject


def _account_server_url(url: str) -> str:
    from urllib.parse import urlsplit

    if url == "":
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in _URL_SCHEMES or not parts.netloc:
        raise UsageProblem(
            f"--account-jwt-server-url {url!r} must be an http(s), nats, tls, ws or wss URL "
            "with a host"
        )
    return url


def _edit_service_urls(claims: OperatorClaims, spec: OperatorEdit) -> None:
    gone = {u.lower() for u in spec.rm_service_urls}
    for url in spec.rm_service_urls:
        if url.lower() not in {u.lower() for u in claims.operator_service_urls}:
            raise UsageProblem(f"--rm-service-url {url!r}: the operator has no such service URL")
    urls = [u for u in claims.operator_service_urls if u.lower() not in gone]
    for url in spec.service_urls:
        url = url.lower()  # nsc lower-cases service URLs
        problem = validate_operator_service_url(url)
        if problem:
            raise UsageProblem(f"--service-url: {problem}")
        if url not in urls:
            urls.append(url)
    claims.operator_service_urls = urls


def _check_strict(ws: Workspace, operator: str, claims: OperatorClaims) -> None:
    """nsc's --require-signing-keys rules: a signing key exists and no identity key signs."""
    if not claims.signing_keys:
        raise UsageProblem(
            "--require-signing-keys needs an operator signing key: add one with --sk generate"
        )
    for account in ws.store.list_accounts(operator):
        acct = load_account(ws, operator, account)
        if acct.issuer == claims.subject:
            raise UsageProblem(
                f"account {account!r} is signed by the operator identity key; re-sign it with "
                "a signing key first ('nscpy edit account NAME -K SIGNING_KEY')"
            )
        for user in ws.store.list_users(operator, account):
            if load_user(ws, operator, account, user).issuer == acct.subject:
                raise UsageProblem(
                    f"user {user!r} of account {account!r} is signed by the account identity "
                    "key; add an account signing key and re-sign it with 'nscpy edit user -K'"
                )
