"""User and activation revocations, kept in the account JWT as the server reads them.

Semantics are the server's: a JWT for key K is revoked when its iat <= revocations[K] or
<= revocations["*"]; adding an entry never moves an existing, later cut-off earlier.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nscpy import keys
from nscpy.actions.edit_common import AccountRef, resolve_account, update_account
from nscpy.actions.entities import load_account, load_user
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.lookup import accounts_by_key
from nscpy.actions.users import find_user
from nscpy.actions.verified import verified_users
from nscpy.actions.workspace import Workspace
from nscpy.jwt import ALL, AccountClaims, Export, RevocationList


@dataclass(frozen=True)
class Revocation:
    """One revocation entry: the key (or "*"), its cut-off, and a local name if known."""

    public_key: str
    at: int
    name: str = ""

    def to_json(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"public_key": self.public_key, "at": self.at, "name": self.name}


def _pop_entry(revocations: RevocationList, key: str, missing: str) -> int:
    """Remove key's entry and return its cut-off; ActionError(missing) when it has none."""
    if key not in revocations:
        raise ActionError(missing)
    at = revocations[key]
    revocations.clear(key)
    return at


def _listed(revocations: RevocationList, names: dict[str, str]) -> list[Revocation]:
    """The entries sorted by key, each with its local name where known."""
    return [Revocation(k, revocations[k], names.get(k, "")) for k in sorted(revocations)]


def user_target(ws: Workspace, ref: AccountRef, value: str | None) -> tuple[str, str]:
    """(public key or "*", local name) for -n/-u: "*", a U key, or a local user name."""
    if value == ALL:
        return ALL, ""
    if value and keys.is_valid_public_key(value.strip()):
        key = value.strip()
        if not key.startswith("U"):
            raise UsageProblem(f"{key} is not a user public key (U...)")
        return key, ""
    user = find_user(ws, ref.operator, ref.account, value)
    return load_user(ws, ref.operator, ref.account, user).subject, user


def revoke_user(
    ws: Workspace,
    account: str | None,
    target: str | None,
    at: int | None = None,
    *,
    operator: str | None = None,
    signer: str | None = None,
    adopt: bool = False,
) -> Revocation:
    """Revoke the user's JWTs issued at or before `at` (default now); "*" revokes all users."""
    ref = resolve_account(ws, account, operator)
    key, name = user_target(ws, ref, target)
    when = ws.now() if at is None else at
    if when < 0:
        raise UsageProblem(f"--at must not be before 1970, got {when}")

    def change(claims: AccountClaims) -> int:
        claims.revoke(key, when)
        return claims.revocations[key]

    _, stored = update_account(ws, ref, change, signer=signer, adopt=adopt)
    return Revocation(key, stored, name)


def clear_user_revocation(
    ws: Workspace,
    account: str | None,
    target: str | None,
    *,
    operator: str | None = None,
    signer: str | None = None,
    adopt: bool = False,
) -> Revocation:
    """Remove the user's (or "*") revocation entry."""
    ref = resolve_account(ws, account, operator)
    key, name = user_target(ws, ref, target)

    def change(claims: AccountClaims) -> int:
        missing = f"{name or key} is not revoked in account {ref.account!r}"
        return _pop_entry(claims.revocations, key, missing)

    _, at = update_account(ws, ref, change, signer=signer, adopt=adopt)
    return Revocation(key, at, name)


def list_user_revocations(
    ws: Workspace, account: str | None, *, operator: str | None = None
) -> list[Revocation]:
    """The account's user revocations, sorted by key, with local user names where known."""
    ref = resolve_account(ws, account, operator)
    claims = load_account(ws, ref.operator, ref.account)
    names = {
        entry.claims.subject: entry.name
        for entry in verified_users(ws.store, ref.operator, ref.account)
    }
    return _listed(claims.revocations, names)


def find_export(claims: AccountClaims, subject: str, service: bool | None) -> Export:
    """The export with exactly this subject (and kind, when given)."""
    found = [
        e
        for e in claims.exports
        if e.subject == subject and (service is None or e.is_service() == service)
    ]
    if not found:
        kind = "" if service is None else ("service " if service else "stream ")
        raise ActionError(f"account {claims.name!r} has no {kind}export with subject {subject!r}")
    if len(found) > 1:
        raise UsageProblem(
            f"account {claims.name!r} exports {subject!r} as a stream and as a service: "
            "pass --service or --stream"
        )
    return found[0]


def account_target(ws: Workspace, operator: str, value: str) -> str:
    """An importing account for activation revocations: "*", an A key, or a local name."""
    if value == ALL:
        return ALL
    if keys.is_valid_public_key(value):
        if not value.startswith("A"):
            raise UsageProblem(f"{value} is not an account public key (A...)")
        return value
    name = ws.account_name(operator, value)
    return load_account(ws, operator, name).subject


def revoke_activation(
    ws: Workspace,
    account: str | None,
    subject: str,
    target: str,
    at: int | None = None,
    *,
    service: bool | None = None,
    operator: str | None = None,
    signer: str | None = None,
) -> Revocation:
    """Revoke the target account's activations for an export (issued at or before `at`)."""
    when = ws.now() if at is None else at

    def change(export: Export, key: str) -> int:
        if not export.token_req:
            raise UsageProblem(f"export {subject!r} is public: there are no activations to revoke")
        export.revoke(key, when)
        return export.revocations[key]

    return _update_export(ws, account, subject, target, service, operator, signer, change)


def clear_activation_revocation(
    ws: Workspace,
    account: str | None,
    subject: str,
    target: str,
    *,
    service: bool | None = None,
    operator: str | None = None,
    signer: str | None = None,
) -> Revocation:
    """Remove an activation revocation entry from an export."""

    def change(export: Export, key: str) -> int:
        missing = f"{key} has no activation revocation on export {subject!r}"
        return _pop_entry(export.revocations, key, missing)

    return _update_export(ws, account, subject, target, service, operator, signer, change)


def _update_export(
    ws: Workspace,
    account: str | None,
    subject: str,
    target: str,
    service: bool | None,
    operator: str | None,
    signer: str | None,
    change: Callable[[Export, str], int],
) -> Revocation:
    """Resolve the target account's key, then apply change(export, key) in a locked re-sign."""
    ref = resolve_account(ws, account, operator)
    key = account_target(ws, ref.operator, target)
    _, at = update_account(
        ws, ref, lambda claims: change(find_export(claims, subject, service), key), signer=signer
    )
    return Revocation(key, at)


def list_activation_revocations(
    ws: Workspace,
    account: str | None,
    subject: str,
    *,
    service: bool | None = None,
    operator: str | None = None,
) -> list[Revocation]:
    """An export's activation revocations, sorted by key."""
    return list_export_revocations(ws, account, subject, service=service, operator=operator)[0][1]


def list_export_revocations(
    ws: Workspace,
    account: str | None,
    subject: str | None,
    *,
    service: bool | None = None,
    operator: str | None = None,
) -> list[tuple[Export, list[Revocation]]]:
    """Activation revocations per export: the one with `subject`, or (None) every export
    of the account, filtered by kind when `service` is given, in the JWT's order."""
    ref = resolve_account(ws, account, operator)
    claims = load_account(ws, ref.operator, ref.account)
    if subject is not None:
        exports = [find_export(claims, subject, service)]
    else:
        exports = [e for e in claims.exports if service is None or e.is_service() == service]
    names = accounts_by_key(ws, ref.operator)
    return [(e, _listed(e.revocations, names)) for e in exports]
