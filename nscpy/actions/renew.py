"""renew users: re-issue user JWTs that expire within a window with a new expiry.

The same key signs again (the user's issuer, when the signer rule still lets it sign) and every
claim but the expiry is kept; only iat and jti change, as they do on any re-signing. The creds
are written in one store batch and then the JWTs in a second (nscpy.actions.steps):
a kill leaves every file old or new and valid, and running the command again renews what is
still due. Users outside the window are never written, so their files stay byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nscpy import keys
from nscpy.actions.entities import load_account, load_operator, load_user
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.signers import may_sign_user
from nscpy.actions.steps import Steps
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, OperatorClaims, UserClaims, encode, format_user_creds


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
    with Steps(ws, operator, spec.dry_run) as steps:
        problems: list[str] = []
        due: list[tuple[Renewed, str, str | None]] = []
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
                due.append(_renew(ws, operator, account, user, claims, spec))
        if problems:
            raise ActionError(f"nothing renewed: {' / '.join(problems)}")
        # creds first, then the JWTs: if killed between the two, the JWT is still due and the
        # next run renews it again, while a creds file holding the newer JWT still connects
        with steps.step() as batch:
            for renewed, _, creds in due:
                if creds is not None:
                    batch.write_creds(renewed.account, renewed.name, creds)
        with steps.step() as batch:
            for renewed, token, _ in due:
                batch.write_user(renewed.account, renewed.name, token)
        report.renewed = [renewed for renewed, _, _ in due]
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
    ws: Workspace, operator: str, account: str, user: str, claims: UserClaims, spec: RenewSpec
) -> tuple[Renewed, str, str | None]:
    """The re-issued user: its report entry, JWT, and creds text (None without its seed)."""
    old_expiry = claims.expires
    claims.expires = spec.expiry
    signer = keys.KeyPair.from_seed(ws.keystore.require(claims.issuer))
    token = encode(claims, signer, iat=ws.now())
    user_seed = ws.keystore.get(claims.subject)
    creds = format_user_creds(token, user_seed) if user_seed is not None else None
    renewed = Renewed(
        account,
        user,
        claims.subject,
        claims.issuer,
        old_expiry,
        spec.expiry,
        str(ws.paths.user_jwt(operator, account, user)),
        str(ws.paths.creds_path(operator, account, user)) if creds else None,
    )
    return renewed, token, creds
