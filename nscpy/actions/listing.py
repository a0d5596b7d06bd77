"""Which keys the store references, and whether the keystore holds their seeds."""

from __future__ import annotations

from typing import Any

from nscpy.actions.errors import ActionError
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, OperatorClaims, peek
from nscpy.store.names import match_name

# the fields of a listed key (`list keys --json`); _collect adds where the key sits
_LISTED = ("entity", "name", "public_key", "stored")


def _kind(entity: str) -> str:
    """operator | account | user: which of nsc's -o/-a/-u filters a key answers to."""
    return entity.split(" ", 1)[0]


def _collect(ws: Workspace) -> list[dict[str, Any]]:
    """Every referenced key with its entity, name, seed presence, operator and account.

    An inventory, read with peek() on purpose: a key counts as referenced when any stored JWT
    names it, verified or not, because `export keys --not-referenced --remove` deletes the
    seeds this leaves out -- a JWT that fails verification must not make its keys deletable.
    Nothing here is trusted or chosen by key; the kind checks only pick which keys a JWT lists.
    """
    rows: list[dict[str, Any]] = []

    def add(entity: str, name: str, key: str, operator: str, account: str = "") -> None:
        rows.append(
            {
                "entity": entity,
                "name": name,
                "public_key": key,
                "stored": ws.keystore.has(key),
                "operator": operator,
                "account": account,
            }
        )

    for operator in ws.store.list_operators():
        try:
            op = peek(ws.store.read_operator(operator))
        except (ValueError, OSError):
            continue
        add("operator", operator, op.subject, operator)
        if isinstance(op, OperatorClaims):
            for key in op.signing_keys:
                add("operator signing key", operator, key, operator)
        for account in ws.store.list_accounts(operator):
            try:
                acct = peek(ws.store.read_account(operator, account))
            except (ValueError, OSError):
                continue
            add("account", account, acct.subject, operator, account)
            if isinstance(acct, AccountClaims):
                for key, scope in sorted(acct.signing_keys.items()):
                    kind = f"account signing key ({scope.role})" if scope else "account signing key"
                    add(kind, account, key, operator, account)
            for user in ws.store.list_users(operator, account):
                try:
                    user_key = peek(ws.store.read_user(operator, account, user)).subject
                except (ValueError, OSError):
                    continue
                add("user", user, user_key, operator, account)
    return rows


def _listed(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in _LISTED}


def _unreferenced(ws: Workspace, referenced: set[str]) -> list[dict[str, Any]]:
    return [
        {"entity": "unreferenced " + i.role.role, "name": "", "public_key": i.public_key}
        | {"stored": True}
        for i in ws.keystore.list()
        if i.public_key not in referenced
    ]


def referenced_keys(ws: Workspace, *, include_unreferenced: bool = False) -> list[dict[str, Any]]:
    """Operator, account (and signing) and user keys of every operator, with seed presence."""
    rows = [_listed(r) for r in _collect(ws)]
    if include_unreferenced:
        rows += _unreferenced(ws, {r["public_key"] for r in rows})
    return rows


def select_keys(
    ws: Workspace,
    *,
    kinds: frozenset[str] = frozenset({"operator", "account", "user"}),
    account: str | None = None,
    user: str | None = None,
    contains: str = "",
    not_referenced: bool = False,
) -> list[dict[str, Any]]:
    """nsc's `list keys`: the current operator's keys of the given kinds -- only one
    account's (and its users') with `account`, one user's with `user` -- whose public key
    contains `contains`; with `not_referenced`, the keystore's keys no operator references."""
    if not_referenced:
        rows = _unreferenced(ws, {r["public_key"] for r in _collect(ws)})
    else:
        op_name = ws.operator_name()
        acct_name = ws.account_name(op_name, account) if account or user else None
        rows = [r for r in _collect(ws) if r["operator"] == op_name and _kind(r["entity"]) in kinds]
        if acct_name is not None:
            rows = [
                r for r in rows if _kind(r["entity"]) == "operator" or r["account"] == acct_name
            ]
        if user is not None and acct_name is not None:
            found = match_name(user, ws.store.list_users(op_name, acct_name), "user")
            if found is None:
                raise ActionError(f"account {acct_name!r} has no user {user!r}")
            user = found
            rows = [r for r in rows if _kind(r["entity"]) != "user" or r["name"] == user]
        rows = [_listed(r) for r in rows]
    needle = contains.upper()
    return [r for r in rows if needle in r["public_key"]]
