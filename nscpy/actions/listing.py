"""Which keys the store references, and whether the keystore holds their seeds."""

from __future__ import annotations

from typing import Any

from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, OperatorClaims, peek


def referenced_keys(ws: Workspace, *, include_unreferenced: bool = False) -> list[dict[str, Any]]:
    """Operator, account (and signing) and user keys of every operator, with seed presence."""
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(entity: str, name: str, key: str) -> None:
        seen.add(key)
        rows.append(
            {"entity": entity, "name": name, "public_key": key, "stored": ws.keystore.has(key)}
        )

    for operator in ws.store.list_operators():
        try:
            op = peek(ws.store.read_operator(operator))
        except (ValueError, OSError):
            continue
        add("operator", operator, op.subject)
        if isinstance(op, OperatorClaims):
            for key in op.signing_keys:
                add("operator signing key", operator, key)
        for account in ws.store.list_accounts(operator):
            try:
                acct = peek(ws.store.read_account(operator, account))
            except (ValueError, OSError):
                continue
            add("account", account, acct.subject)
            if isinstance(acct, AccountClaims):
                for key, scope in sorted(acct.signing_keys.items()):
                    kind = f"account signing key ({scope.role})" if scope else "account signing key"
                    add(kind, account, key)
            for user in ws.store.list_users(operator, account):
                try:
                    add("user", user, peek(ws.store.read_user(operator, account, user)).subject)
                except (ValueError, OSError):
                    continue
    if include_unreferenced:
        for info in ws.keystore.list():
            if info.public_key not in seen:
                add("unreferenced " + info.role.role, "", info.public_key)
    return rows
