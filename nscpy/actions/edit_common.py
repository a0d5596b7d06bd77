"""Shared machinery of the edit commands: locked account rewrites and validation.

Every change to an account JWT goes through `update_account`: the account file is read, changed
and re-signed under the store lock (DataStore.read_modify_write), so two edits running at once
never lose one another. Any exception raised while changing the claims leaves the file as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from nscpy import keys
from nscpy.actions.entities import Saved, load_operator, stored_account
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.signers import account_signer, load_key_value
from nscpy.actions.workspace import Workspace
from nscpy.jwt import (
    AccountClaims,
    AnyClaims,
    OperatorClaims,
    UserClaims,
    ValidationResults,
    encode,
)

T = TypeVar("T")


@dataclass(frozen=True)
class AccountRef:
    """An operator/account pair resolved from the -a flag and the current context."""

    operator: str
    account: str


def resolve_account(ws: Workspace, account: str | None, operator: str | None = None) -> AccountRef:
    """The account named (name or public key), else the current or only one."""
    op = ws.operator_name(operator)
    return AccountRef(op, ws.account_name(op, account))


def require_valid(claims: AnyClaims, now: int, what: str) -> None:
    """Refuse claims that Go's Validate would block (first blocking issue, one line)."""
    results = ValidationResults()
    claims.validate(results, now=now)
    errors = results.errors()
    if errors:
        raise UsageProblem(f"{what} would not be valid: {errors[0]}")


def check_system_account(op: OperatorClaims, acct: AccountClaims) -> None:
    """The system account may not carry JetStream limits (nats-server refuses to start)."""
    limits = acct.limits
    has_js = not limits.jetstream.is_zero() or bool(limits.tiered_limits)
    if op.system_account and acct.subject == op.system_account and has_js:
        raise UsageProblem(
            f"account {acct.name or acct.subject!r} is the system account: "
            "it may not have JetStream limits (use --js-disable)"
        )


def check_account_chain(
    op: OperatorClaims, acct: AccountClaims, name: str, *, adopt: bool = False
) -> None:
    """Refuse to re-sign an account JWT that another operator issued, unless adopt is given.

    Re-signing would silently make a foreign account (one `validate` flags) ours. Strict
    signing-key mode is a policy question validate reports; here only "ours or not" matters.
    """
    if adopt or acct.issuer == op.subject or acct.issuer in op.signing_keys:
        return
    raise ActionError(
        f"account {name!r} is signed by {acct.issuer}, which is neither operator "
        f"{op.name or op.subject!r} nor one of its signing keys; refusing to re-sign a foreign "
        f"account: take it over first with 'nscpy edit account {name} --adopt'"
    )


def check_user_chain(
    acct: AccountClaims, user: UserClaims, name: str, *, adopt: bool = False
) -> None:
    """Refuse to re-sign a user JWT that another account issued, unless adopt is given."""
    if adopt or acct.did_sign(user):
        return
    raise ActionError(
        f"user {name!r} is signed by {user.issuer}, which is neither account "
        f"{acct.name or acct.subject!r} nor one of its signing keys; refusing to re-sign a "
        "foreign user: pass --adopt to take it over"
    )


def update_account(
    ws: Workspace,
    ref: AccountRef,
    change: Callable[[AccountClaims], T],
    *,
    signer: str | None = None,
    adopt: bool = False,
) -> tuple[AccountClaims, T]:
    """Read, change, validate and re-sign the account JWT under the store lock.

    `change` mutates the claims in place and returns anything the caller wants back; if it (or
    validation, or signing) raises, the stored JWT is untouched. An account JWT that does not
    chain to the operator is refused unless adopt (check_account_chain).
    """
    op = load_operator(ws, ref.operator)
    path = ws.paths.account_jwt(ref.operator, ref.account)
    box: list[tuple[AccountClaims, T]] = []

    def rewrite(old: str | None) -> str:
        if old is None:
            raise ActionError(f"account {ref.account!r} does not exist")
        claims = stored_account(old, ref.account)
        check_account_chain(op, claims, ref.account, adopt=adopt)
        subject = claims.subject
        result = change(claims)
        if claims.subject != subject:
            raise ActionError("an edit may not change the account's public key")
        check_system_account(op, claims)
        now = ws.now()
        require_valid(claims, now, f"account {ref.account!r}")
        pair = account_signer(ws.keystore, op, signer, issued_by=claims.issuer)
        token = encode(claims, pair, iat=now)
        box.append((claims, result))
        return token

    ws.store.read_modify_write(path, rewrite)
    claims, result = box[0]
    return claims, result


def account_saved(ws: Workspace, ref: AccountRef, claims: AccountClaims) -> Saved:
    """The Saved record for an edited account."""
    return Saved("account", ref.account, claims.subject, ws.paths.account_jwt(*_pair(ref)))


def _pair(ref: AccountRef) -> tuple[str, str]:
    return ref.operator, ref.account


def signing_key_value(
    ws: Workspace, value: str, role: keys.Prefix
) -> tuple[str, keys.KeyPair | None]:
    """A --sk value: 'generate' (new key pair, to store), a public key, a seed or a seed file."""
    if value == "generate":
        pair = keys.create_pair(role)
        return pair.public_key, pair
    text = value.strip()
    if keys.is_valid_public_key(text):
        public_key = text
    else:
        public_key = load_key_value(text, ws.keystore).public_key
    if not public_key.startswith(role.letter):
        raise UsageProblem(
            f"--sk {public_key}: expected {role.role} key ({role.letter}...), "
            f"got a {keys.Prefix.from_letter(public_key[0]).role} key"
        )
    return public_key, None


def normalise_tags(tags: list[str]) -> list[str]:
    """jwt's TagList.Add: trimmed, lower-cased, first occurrence kept."""
    out: list[str] = []
    for tag in tags:
        t = tag.strip().lower()
        if t and t not in out:
            out.append(t)
    return out


def edit_tags(current: list[str], add: list[str], remove: list[str]) -> list[str]:
    """current plus add, minus remove (case-insensitive, as jwt's TagList.Remove)."""
    gone = {t.strip().lower() for t in remove}
    return [t for t in normalise_tags([*current, *add]) if t.lower() not in gone]
