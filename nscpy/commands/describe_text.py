"""What `describe operator|account|user` prints, without click.

Shared by the click commands (nscpy.commands.describe) and the start-up fast path
(nscpy.commands.fastpath), so both print the same thing by construction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from nscpy.actions.workspace import Workspace

if TYPE_CHECKING:
    from nscpy.jwt import UserClaims, UserScope

__all__ = ["LOADERS", "account_token", "operator_token", "render", "user_token"]


def operator_token(ws: Workspace, name: str | None, account: str | None = None) -> str:
    """The stored JWT of the named (or current) operator."""
    return str(ws.store.read_operator(ws.operator_name(name)))


def account_token(ws: Workspace, name: str | None, account: str | None = None) -> str:
    """The stored JWT of the named (name or public key) or current account."""
    operator = ws.operator_name()
    return str(ws.store.read_account(operator, ws.account_name(operator, name)))


def user_token(ws: Workspace, name: str | None, account: str | None = None) -> str:
    """The stored JWT of a user (name or public key) of the given or current account."""
    from nscpy.actions.lookup import find_user

    operator = ws.operator_name()
    account = ws.account_name(operator, account)
    return str(ws.store.read_user(operator, account, find_user(ws, operator, account, name)))


LOADERS: dict[str, Callable[[Workspace, str | None, str | None], str]] = {
    "operator": operator_token,
    "account": account_token,
    "user": user_token,
}


def _scope_of(ws: Workspace, claims: UserClaims, account: str | None) -> UserScope | None:
    """The account signing-key scope a scoped user gets its permissions from, if any."""
    from nscpy.jwt.codec import decode_account

    if not claims.has_empty_permissions():
        return None
    operator = ws.operator_name()
    account_claims = decode_account(
        ws.store.read_account(operator, ws.account_name(operator, account))
    )
    return account_claims.signing_keys.get(claims.issuer)


def render(
    token: str,
    kind: str,
    *,
    as_json: bool,
    raw: bool,
    field_path: str | None,
    to_file: bool,
    ws: Workspace | None = None,
    account: str | None = None,
) -> str:
    """The text describe prints for token (verified first): raw, a field, JSON or nsc's
    table; to_file decorates a raw JWT as nsc writes it to a file. With ws, a scoped user's
    table also shows the scope (of `account`, else the current account).

    JSON and fields come from the token's own payload, as nsc prints them; only the table needs
    typed claims (decode() verifies exactly as verify_payload() does, and also checks types).
    """
    token = token.strip()
    if not (raw or field_path or as_json):
        from nscpy.commands import nsc_tables
        from nscpy.jwt.codec import decode, decode_user

        if kind == "user" and ws is not None:
            user = decode_user(token)
            return nsc_tables.describe_user(user, _scope_of(ws, user, account))
        return nsc_tables.describe_claims(decode(token))
    from nscpy.jwt.jws import verify_payload

    payload = verify_payload(token)
    if raw:
        from nscpy.jwt.creds import format_jwt

        return format_jwt(kind, token) if to_file else token
    if field_path:
        from nscpy.actions.describe import field_at

        value = field_at(payload, field_path)
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return json.dumps(payload, indent=2, ensure_ascii=False)
