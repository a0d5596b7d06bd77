"""delete user / delete account, with nsc's revoke, --rm-nkey and --rm-creds semantics.

Revocations are written by re-signing the account JWT inside the data store's
read-modify-write (an flock on the operator's .nsc), so parallel deletions each add their entry
to the newest account JWT and none is lost. Everything that can be refused (unknown names, no
signing key) is checked before the first write.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nscpy import keys
from nscpy.actions.edit_common import check_account_chain
from nscpy.actions.entities import load_account, load_operator, load_user, stored_account
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.report import Report
from nscpy.actions.signers import account_signer
from nscpy.actions.users import find_user
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, encode

ACCOUNT_GRACE_SECONDS = 60
"""nsc re-signs a deleted account to expire one minute later."""


def _account_signer(ws: Workspace, operator: str, account: str, value: str | None) -> keys.KeyPair:
    """The operator key that re-signs an account: -K, else the key that signed it, else any."""
    try:
        issuer = load_account(ws, operator, account).issuer
    except ActionError:
        issuer = ""
    return account_signer(ws.keystore, load_operator(ws, operator), value, issued_by=issuer)


def update_account(
    ws: Workspace,
    operator: str,
    account: str,
    signer: keys.KeyPair,
    change: Callable[[AccountClaims], bool],
) -> str | None:
    """Under the store lock: decode the account, apply change, re-sign if it says it changed.

    Returns the JWT written, or None when change() reported nothing to do.
    """
    path = ws.paths.account_jwt(operator, account)

    def rewrite(old: str | None) -> str | None:
        if old is None:
            raise ActionError(f"account {account!r} does not exist under operator {operator!r}")
        claims = stored_account(old, account)
        check_account_chain(load_operator(ws, operator), claims, account)
        if not change(claims):
            return None
        return encode(claims, signer, iat=ws.now())

    return ws.store.read_modify_write(path, rewrite)


@dataclass
class _Target:
    name: str
    public_key: str


def _targets(ws: Workspace, operator: str, account: str, names: Sequence[str]) -> list[_Target]:
    out: list[_Target] = []
    for given in names:
        name = find_user(ws, operator, account, given)
        if any(t.name == name for t in out):
            continue
        out.append(_Target(name, load_user(ws, operator, account, name).subject))
    return out


def _revoke_new(claims: AccountClaims, subjects: Sequence[str], now: int) -> list[str]:
    """Revoke, at now, each subject not revoked yet; returns those newly revoked."""
    newly: list[str] = []
    for subject in subjects:
        if not claims.revocations.get(subject):
            claims.revoke(subject, now)
            newly.append(subject)
    return newly


def _revoke_all(
    ws: Workspace, operator: str, account: str, signer: keys.KeyPair, subjects: list[str]
) -> tuple[str | None, list[str]]:
    """Revoke subjects at now in one re-sign; returns (new JWT or None, subjects newly revoked)."""
    newly: list[str] = []

    def change(claims: AccountClaims) -> bool:
        newly[:] = _revoke_new(claims, subjects, ws.now())
        return bool(newly)

    token = update_account(ws, operator, account, signer, change)
    return token, list(newly)


@dataclass
class DeleteUsers:
    """What `delete user` was asked for."""

    names: list[str]
    account: str | None = None
    operator: str | None = None
    revoke: bool = False
    rm_nkey: bool = False
    rm_creds: bool = False
    signer: str | None = None


def delete_users(ws: Workspace, spec: DeleteUsers) -> Report:
    """Delete user JWTs (revoking them first with revoke=True), and optionally seeds and creds."""
    if not spec.names:
        raise UsageProblem("name the user(s) to delete: pass NAME or -n NAME")
    operator = ws.operator_name(spec.operator)
    account = ws.account_name(operator, spec.account)
    targets = _targets(ws, operator, account, spec.names)
    report = Report(data={"operator": operator, "account": account, "users": []})
    newly: list[str] = []
    if spec.revoke:
        signer = _account_signer(ws, operator, account, spec.signer)
        token, newly = _revoke_all(ws, operator, account, signer, [t.public_key for t in targets])
        report.data["account_jwt"] = token
    _delete_users(ws, operator, account, targets, spec, newly, report)
    if spec.revoke and newly:
        report.ok(f"re-signed account {account!r} with the revocations")
    elif not spec.revoke:
        report.warn("users were not revoked: their creds still work until they expire (--revoke)")
    return report


def _delete_users(
    ws: Workspace,
    operator: str,
    account: str,
    targets: list[_Target],
    spec: DeleteUsers | DeleteAccount,
    newly: list[str],
    report: Report,
) -> None:
    """Report each target's revocation (with spec.revoke), then delete its JWT, seed and creds."""
    for t in targets:
        if spec.revoke:
            state = "revoked user" if t.public_key in newly else "user is already revoked"
            report.ok(f"{state} {t.name!r} ({t.public_key})")
        ws.store.delete_user(operator, account, t.name)
        report.ok(f"deleted user {t.name!r}")
        if spec.rm_nkey:
            if ws.keystore.remove(t.public_key):
                report.ok(f"deleted the seed of {t.name!r}")
            else:
                report.ok(f"the seed of {t.name!r} is not stored")
        if spec.rm_creds:
            if ws.keystore.remove_creds(operator, account, t.name):
                report.ok(f"removed the creds of {t.name!r}")
            else:
                report.ok(f"{t.name!r} has no creds file")
        report.data["users"].append({"name": t.name, "public_key": t.public_key})


@dataclass
class DeleteAccount:
    """What `delete account` was asked for."""

    name: str
    operator: str | None = None
    revoke: bool = True
    rm_nkey: bool = False
    rm_creds: bool = False
    signer: str | None = None


def delete_account(ws: Workspace, spec: DeleteAccount) -> Report:
    """Revoke (by default) and delete the account's users, re-sign the account to expire in a
    minute, then delete its directory (and with rm_nkey its keys, with rm_creds its creds)."""
    operator = ws.operator_name(spec.operator)
    account = ws.account_name(operator, spec.name)
    if ws.store.info(operator).managed:
        raise ActionError(
            f"operator {operator!r} is managed: its account server must cancel {account!r}"
        )
    signer = _account_signer(ws, operator, account, spec.signer)
    users = ws.store.list_users(operator, account)
    targets = _targets(ws, operator, account, users)
    report = Report(data={"operator": operator, "account": account, "users": []})
    newly: list[str] = []
    signing_keys: list[str] = []
    subject = ""

    def change(claims: AccountClaims) -> bool:
        nonlocal subject
        now = ws.now()
        newly[:] = _revoke_new(claims, [t.public_key for t in targets], now) if spec.revoke else []
        claims.expires = now + ACCOUNT_GRACE_SECONDS
        signing_keys[:] = list(claims.signing_keys)
        subject = claims.subject
        return True

    token = update_account(ws, operator, account, signer, change)
    report.data["account_jwt"] = token
    report.data["public_key"] = subject
    _delete_users(ws, operator, account, targets, spec, newly, report)
    report.ok(f"expired account {account!r} (re-signed with exp in {ACCOUNT_GRACE_SECONDS}s)")
    if spec.rm_nkey:
        for key in [*signing_keys, subject]:
            if ws.keystore.remove(key):
                report.ok(f"deleted the seed of {key}")
            else:
                report.ok(f"the seed of {key} is not stored")
    ws.store.delete_account(operator, account)
    report.ok(f"deleted account {account!r}")
    if spec.rm_creds:
        _remove_empty_dir(ws.paths.creds_dir(operator, account))
    if ws.context.account == account and ws.context.operator in ("", operator):
        ws.select(operator=operator, account="")
    report.warn(
        "the account is only deleted locally: remove it from a resolver with 'push -R' or prune"
    )
    return report


def _remove_empty_dir(path: Path) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass  # absent, or holds files we did not create: leave it
