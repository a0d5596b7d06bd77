"""Finding stored entities by name or public key, loading only the claim kind looked for.

Read commands (`describe user`) resolve a user before decoding one token; keeping this apart
from nscpy.actions.users spares them importing every claim kind (start-up is budgeted).

Names resolve exactly (store.names.match_name: the NFC form at most, never case); a public key
resolves to the one stored entity whose JWT verifies and has it as subject (find_by_key: a JWT
that does not verify, or is of another kind, never answers for a key). Whenever more than one
stored entity could be meant, the lookup fails naming them all -- it never picks one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar

from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.workspace import Workspace
from nscpy.redact import shown
from nscpy.store.names import match_name, near_misses

if TYPE_CHECKING:
    from nscpy.jwt import AccountClaims, Claims, UserClaims

__all__ = [
    "Stored",
    "accounts_by_key",
    "find_by_key",
    "find_user",
    "key_for_role",
    "missing",
    "verified_accounts",
    "verified_users",
]

C = TypeVar("C", bound="Claims")


class Stored(NamedTuple, Generic[C]):
    """A stored entity: its local name, its JWT as stored (stripped) and the verified claims.

    A NamedTuple, not a dataclass: this module is on the read commands' start-up path.
    """

    name: str
    token: str
    claims: C


def verified_accounts(ws: Workspace, operator: str) -> list[Stored[AccountClaims]]:
    """The operator's accounts whose JWT verifies as an account JWT (the others are left out)."""
    from nscpy.jwt.codec import decode_account

    out = []
    for name in ws.store.list_accounts(operator):
        try:
            token = ws.store.read_account(operator, name).strip()
            out.append(Stored(name, token, decode_account(token)))
        except ValueError:
            continue
    return out


def verified_users(ws: Workspace, operator: str, account: str) -> list[Stored[UserClaims]]:
    """The account's users whose JWT verifies as a user JWT (the others are left out)."""
    from nscpy.jwt.codec import decode_user

    out = []
    for name in ws.store.list_users(operator, account):
        try:
            token = ws.store.read_user(operator, account, name).strip()
            out.append(Stored(name, token, decode_user(token)))
        except ValueError:
            continue
    return out


def find_by_key(entries: Iterable[Stored[C]], public_key: str, what: str) -> Stored[C] | None:
    """The one entry whose verified subject is public_key (None if none; two is an error).

    what names the entries for the error: "accounts of operator 'O'".
    """
    found = [entry for entry in entries if entry.claims.subject == public_key]
    if len(found) > 1:
        raise ActionError(
            f"{len(found)} {what} have the key {public_key} "
            f"({', '.join(repr(entry.name) for entry in found)}); name one of them"
        )
    return found[0] if found else None


def missing(kind: str, value: str, names: Sequence[str], where: str) -> ActionError:
    """'<kind> <value> does not exist <where>', with a hint when only case or form differs."""
    similar = near_misses(value, names)
    hint = ""
    if similar:
        listed = ", ".join(repr(n) for n in similar)
        hint = f" (names are matched exactly; stored: {listed})"
    return ActionError(f"{kind} {shown(value)} does not exist {where}{hint}")


def accounts_by_key(ws: Workspace, operator: str) -> dict[str, str]:
    """Account public key -> local name (accounts whose JWT does not verify are left out)."""
    return {entry.claims.subject: entry.name for entry in verified_accounts(ws, operator)}


def find_user(ws: Workspace, operator: str, account: str, name: str | None) -> str:
    """The user's file name: by name or public key; with no name, the account's only user."""
    users = ws.store.list_users(operator, account)
    if name:
        found = match_name(name, users, "user")
        if found is not None:
            return found
        if name.startswith("U"):
            by_key = find_by_key(
                verified_users(ws, operator, account), name, f"users of account {account!r}"
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
