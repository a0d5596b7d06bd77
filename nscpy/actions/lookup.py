"""Finding stored entities by name or public key, without loading claim classes.

Read commands (`describe user`) resolve a user before decoding one token; keeping this apart
from nscpy.actions.users spares them importing every claim kind (start-up is budgeted).
"""

from __future__ import annotations

from nscpy.actions.errors import ActionError
from nscpy.actions.workspace import Workspace

__all__ = ["find_user", "accounts_by_key"]


def accounts_by_key(ws: Workspace, operator: str) -> dict[str, str]:
    """Account public key -> local name (accounts whose JWT does not read are left out)."""
    from nscpy.jwt.codec import peek

    out: dict[str, str] = {}
    for name in ws.store.list_accounts(operator):
        try:
            out[peek(ws.store.read_account(operator, name)).subject] = name
        except ValueError:
            continue
    return out


def find_user(ws: Workspace, operator: str, account: str, name: str | None) -> str:
    """The user's file name: by name or public key; with no name, the account's only user."""
    users = ws.store.list_users(operator, account)
    if name:
        if name in users:
            return name
        if name.startswith("U"):
            from nscpy.jwt.codec import peek

            for user in users:
                try:
                    if peek(ws.store.read_user(operator, account, user)).subject == name:
                        return user
                except ValueError:
                    continue
        raise ActionError(f"user {name!r} does not exist in account {account!r}")
    if len(users) == 1:
        return users[0]
    if not users:
        raise ActionError(f"account {account!r} has no users")
    raise ActionError(f"account {account!r} has several users: pass -n NAME ({', '.join(users)})")
