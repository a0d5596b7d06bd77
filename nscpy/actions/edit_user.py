"""edit user: change a user's permissions and limits, re-sign it, and rewrite its creds."""

from __future__ import annotations

from dataclasses import dataclass, field

from nscpy.actions.edit_common import (
    check_account_chain,
    check_user_chain,
    edit_tags,
    require_valid,
    resolve_account,
)
from nscpy.actions.edit_limits import LimitsEdit
from nscpy.actions.entities import Saved, load_account, load_operator, load_user
from nscpy.actions.errors import UsageProblem
from nscpy.actions.signers import user_signer
from nscpy.actions.users import find_user, write_creds_if_possible
from nscpy.actions.workspace import Workspace
from nscpy.jwt import NO_LIMIT, ValidationResults, encode, validate_user_against_account


@dataclass
class UserEdit:
    """What `edit user` was asked for (None / empty = unchanged)."""

    name: str | None = None
    account: str | None = None
    operator: str | None = None
    signer: str | None = None
    limits: LimitsEdit = field(default_factory=LimitsEdit)
    tags: list[str] = field(default_factory=list)
    rm_tags: list[str] = field(default_factory=list)
    start: int | None = None
    expiry: int | None = None
    adopt: bool = False


def edit_user(ws: Workspace, spec: UserEdit) -> Saved:
    """Apply spec to the stored user, re-sign it (new iat) and rewrite its creds."""
    ref = resolve_account(ws, spec.account, spec.operator)
    user = find_user(ws, ref.operator, ref.account, spec.name)
    op = load_operator(ws, ref.operator)
    acct = load_account(ws, ref.operator, ref.account)
    claims = load_user(ws, ref.operator, ref.account, user)
    check_account_chain(op, acct, ref.account, adopt=spec.adopt)
    check_user_chain(acct, claims, user, adopt=spec.adopt)
    signer = user_signer(ws.keystore, op, acct, spec.signer, issued_by=claims.issuer)
    scope = acct.signing_keys.get_scope(signer.public_key)
    notes: list[str] = []
    if scope is not None:
        if not spec.limits.is_empty():
            raise UsageProblem(
                f"user {user!r} is signed by the scoped signing key of role {scope.role!r}: "
                "scoped users require no permissions or limits set; "
                "edit the scope with 'nscpy edit signing-key' instead"
            )
        if not claims.has_empty_permissions():
            notes.append("the user is now scoped: its own permissions and limits were cleared")
        claims.set_scoped()
    else:
        if claims.has_empty_permissions():
            # a formerly scoped user: zero counts would mean "nothing allowed" to the server
            claims.subs = claims.data = claims.payload = NO_LIMIT
        spec.limits.apply(claims)
    claims.issuer_account = acct.subject if signer.public_key != acct.subject else ""
    claims.tags = edit_tags(claims.tags, spec.tags, spec.rm_tags)
    if spec.start is not None:
        claims.not_before = spec.start
    if spec.expiry is not None:
        claims.expires = spec.expiry
    now = ws.now()
    require_valid(claims, now, f"user {user!r}")
    token = encode(claims, signer, iat=now)
    results = ValidationResults()
    validate_user_against_account(claims, acct, results)
    problems = [e for e in results.errors() if "revoked" not in e]
    if problems:
        raise UsageProblem(f"user {user!r} would not be accepted: {problems[0]}")
    if acct.is_claim_revoked(claims):
        notes.append("the account still revokes this user's JWTs issued this second or earlier")
    path = ws.store.write_user(ref.operator, ref.account, user, token)
    creds = write_creds_if_possible(ws, ref.operator, ref.account, user, token, claims.subject)
    return Saved("user", user, claims.subject, path, creds, False, notes)
