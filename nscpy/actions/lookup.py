"""Finding stored entities by name or public key, loading only the claim kind looked for.

Read commands (`describe user`) resolve a user before decoding one token; keeping this apart
from nscpy.actions.users spares them importing every claim kind (start-up is budgeted).

Names resolve exactly (store.names.match_name: the NFC form at most, never case); a public key
resolves to the one stored entity whose JWT verifies and has it as subject (nscpy.actions.verified:
a JWT that does not verify, or is of another kind, never answers for a key). Whenever more than
one stored entity could be meant, the lookup fails naming them all -- it never picks one.
"""

from __future__ import annotations

from collections.abc import Mapping

from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.verified import find_by_key, verified_accounts, verified_users
from nscpy.actions.workspace import Workspace, missing
from nscpy.store.names import match_name

__all__ = ["accounts_by_key", "find_user", "key_for_role"]


def accounts_by_key(ws: Workspace, operator: str) -> dict[str, str]:
    """Account public key -> local name (accounts whose JWT does not verify are left out)."""
    return {entry.claims.subject: entry.name for entry in verified_accounts(ws.store, operator)}


def find_user(ws: Workspace, operator: str, account: str, name: str | None) -> str:
    """The user's file name: by name or public key; with no name, the account's only user."""
    users = ws.store.list_users(operator, account)
    if name:
        found = match_name(name, users, "user")
        if found is not None:
            return found
        if name.startswith("U"):
            by_key = find_by_key(
                verified_users(ws.store, operator, account), name, f"users of account {account!r}"
            )
            if by_key is not None:
                return by_key.name
        raise missing("user", name, users, f"in account {account!r}")
    if len(users) == 1:
        return users[0]
    if not users:
        raise ActionError(f"account {account!r} has no users")
    raise ActionError(f"account {account!r} has several users: pass -n NAME ({', '.join(users)})")


def key_for_role(signing_keys: Mapping[str, object], role: str) -> str | None:
    """The signing key whose scope has this role name (exact), None if none; two is an error."""
    found = [
        key
        for key, scope in signing_keys.items()
        if scope is not None and getattr(scope, "role", None) == role
    ]
    if len(found) > 1:
        raise UsageProblem(
            f"role {role!r} belongs to {len(found)} signing keys ({', '.join(found)}): "
            "pass the public key instead"
        )
    return found[0] if found else None
