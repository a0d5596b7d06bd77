"""renew users: re-issue user JWTs that expire within a window with a new expiry.

The same key signs again (the user's issuer, when the signer rule still lets it sign) and every
claim but the expiry is kept; only iat and jti change, as they do on any re-signing. Everything
is written in one store batch per operator: a crash leaves either the old files or the new
ones, and running the command again renews what is still due. Users outside the window are not
read for writing at all, so their files stay byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nscpy import keys
from nscpy.actions.entities import load_account, load_operator, load_user
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.signers import may_sign_user
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, OperatorClaims, UserClaims, encode, format_user_creds
from nscpy.store.jwtstore import StoreBatch


@dataclass
class RenewSpec:
    """What `renew users` was asked for (times are Unix seconds, already resolved)."""

    within: int
    """Renew users whose expiry is at or before this time (expired ones included)."""
    expiry: int
    """The new expiry."""
    account: str | None = None
    operator: str | None = None
    dry_run: bool = False


@dataclass
class Renewed:
    """One user re-issued (or, in a dry run, that would be)."""

    account: str
    name: str
    public_key: str
    issuer: str
    old_expiry: int
    new_expiry: int
    jwt: str
    creds: str | None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready, paths as text, no secrets."""
        return {
            "kind": "user",
            "account": self.account,
            "name": self.name,
            "public_key": self.public_key,
            "issuer": self.issuer,
            "old_expiry": self.old_expiry,
            "new_expiry": self.new_expiry,
            "jwt": self.jwt,
            "creds": self.creds,
        }


@dataclass
class RenewReport:
    """What renew did: the users renewed and how many were left alone."""

    operator: str
    within: int
    expiry: int
    dry_run: bool
    renewed: list[Renewed] = field(default_factory=list)
    unchanged: int = 0

    def to_json(self) -> dict[str, Any]:
        """The report as --json prints it (see nscpy/schemas/renew-users.json)."""
        return {
            "operator": self.operator,
            "within": self.within,
            "expiry": self.expiry,
            "dry_run": self.dry_run,
            "renewed": [r.to_json() for r in self.renewed],
            "unchanged": self.unchanged,
        }


def renew_users(ws: Workspace, spec: RenewSpec) -> RenewReport:
    """Re-issue the due users of one account (or all) with spec.expiry, in one batch."""
    now = ws.now()
    if spec.expiry <= now:
        raise UsageProblem("--expiry must be in the future (0, never expiring, is not a renewal)")
    if spec.expiry <= spec.within:
        raise UsageProblem(
            "--expiry must be later than the --within window, or the renewed users would be "
            "due again at once"
        )
    operator = ws.operator_name(spec.operator)
    op = load_operator(ws, operator)
    accounts = (
        [ws.account_name(operator, spec.account)]
        if spec.account
        else ws.store.list_accounts(operator)
    )
    report = RenewReport(operator, spec.within, spec.expiry, spec.dry_run)
    with ws.store.batch(operator, ws.keystore) as batch:
        problems: list[str] = []
        for account in accounts:
            acct = load_account(ws, operator, account)
            for user in ws.store.list_users(operator, account):
                claims = load_user(ws, operator, account, user)
                if not claims.expires or claims.expires > spec.within:
                    report.unchanged += 1
                    continue
                problem = _signer_problem(ws, op, acct, claims)
                if problem:
                    problems.append(f"user {user!r} of account {account!r}: {problem}")
                    continue
                report.renewed.append(_renew(ws, batch, account, user, claims, spec))
        if problems:  # raised inside the batch: nothing staged is written
            raise ActionError(f"nothing renewed: {' / '.join(problems)}")
        if spec.dry_run:
            batch.raw.discard()
    return report


def _signer_problem(
    ws: Workspace, op: OperatorClaims, acct: AccountClaims, claims: UserClaims
) -> str:
    if not may_sign_user(op, acct, claims.issuer):
        return f"its signer {claims.issuer} may no longer sign it: re-sign it with 'edit user'"
    if not ws.keystore.has(claims.issuer):
        return f"the seed of its signer {claims.issuer} is not in the keystore"
    return ""


def _renew(
    ws: Workspace, batch: StoreBatch, account: str, user: str, claims: UserClaims, spec: RenewSpec
) -> Renewed:
    """Stage the re-issued user (and its creds when the user's seed is stored)."""
    old_expiry = claims.expires
    claims.expires = spec.expiry
    signer = keys.KeyPair.from_seed(ws.keystore.require(claims.issuer))
    token = encode(claims, signer, iat=ws.now())
    path = batch.write_user(account, user, token)
    user_seed = ws.keystore.get(claims.subject)
    creds = None
    if user_seed is not None:
        creds = batch.write_creds(account, user, format_user_creds(token, user_seed))
    return Renewed(
        account,
        user,
        claims.subject,
        claims.issuer,
        old_expiry,
        spec.expiry,
        str(path),
        str(creds) if creds else None,
    )
