"""Stored entities whose JWT verifies, and the one lookup of an entity by its public key.

A public key names the one stored entity whose JWT verifies, is of the kind looked for and has
that key as subject: a JWT that does not verify (forged, damaged) never answers for a key, and
neither does a JWT of another kind. When several entities have the key, find_by_key fails
naming them all -- it never picks one. Only the claim kind looked for is loaded (start-up).
Below nscpy.actions.workspace: these take the store, so the workspace can use them too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Generic, NamedTuple, TypeVar

from nscpy.actions.errors import ActionError

if TYPE_CHECKING:
    from nscpy.jwt import AccountClaims, Claims, UserClaims
    from nscpy.store.jwtstore import DataStore

__all__ = ["Stored", "find_by_key", "verified_accounts", "verified_users"]

C = TypeVar("C", bound="Claims")


class Stored(NamedTuple, Generic[C]):
    """A stored entity: its local name, its JWT as stored (stripped) and the verified claims.

    A NamedTuple, not a dataclass: this module is on the read commands' start-up path.
    """

    name: str
    token: str
    claims: C


def verified_accounts(store: DataStore, operator: str) -> list[Stored[AccountClaims]]:
    """The operator's accounts whose JWT verifies as an account JWT (the others are left out)."""
    from nscpy.jwt.codec import decode_account

    out = []
    for name in store.list_accounts(operator):
        try:
            token = store.read_account(operator, name).strip()
            out.append(Stored(name, token, decode_account(token)))
        except ValueError:
            continue
    return out


def verified_users(store: DataStore, operator: str, account: str) -> list[Stored[UserClaims]]:
    """The account's users whose JWT verifies as a user JWT (the others are left out)."""
    from nscpy.jwt.codec import decode_user

    out = []
    for name in store.list_users(operator, account):
        try:
            token = store.read_user(operator, account, name).strip()
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
