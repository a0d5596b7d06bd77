"""edit authcallout: which users run the callout, where it may place users, and its xkey."""

from __future__ import annotations

from dataclasses import dataclass, field

from nscpy import keys
from nscpy.actions.edit_common import AccountRef, account_saved, resolve_account, update_account
from nscpy.actions.entities import Saved, load_user
from nscpy.actions.errors import UsageProblem
from nscpy.actions.revocations import account_target
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, ExternalAuthorization
from nscpy.redact import shown
from nscpy.store.journal import all_or_nothing
from nscpy.store.names import match_name


@dataclass
class AuthCalloutEdit:
    """What `edit authcallout` was asked for."""

    auth_users: list[str] = field(default_factory=list)
    rm_auth_users: list[str] = field(default_factory=list)
    allowed_accounts: list[str] = field(default_factory=list)
    rm_allowed_accounts: list[str] = field(default_factory=list)
    curve: str | None = None
    """An X public key, an SX seed, or 'generate'."""
    rm_curve: bool = False
    disable: bool = False

    def is_empty(self) -> bool:
        """True when nothing but --disable (or nothing at all) was asked."""
        return not (
            self.auth_users
            or self.rm_auth_users
            or self.allowed_accounts
            or self.rm_allowed_accounts
            or self.curve
            or self.rm_curve
        )


def _user_key(ws: Workspace, ref: AccountRef, value: str) -> str:
    if keys.is_valid_public_key(value):
        if not value.startswith("U"):
            raise UsageProblem(f"--auth-user {value}: expected a user public key (U...)")
        return value
    user = match_name(value, ws.store.list_users(ref.operator, ref.account), "user")
    if user is not None:
        return load_user(ws, ref.operator, ref.account, user).subject
    raise UsageProblem(
        f"--auth-user {shown(value)} is neither a user public key nor a user of the account"
    )


def _curve(ws: Workspace, value: str) -> tuple[str, keys.CurveKeyPair | None]:
    if value == "generate":
        pair = keys.create_curve_pair()
        return pair.public_key, pair
    if keys.is_valid_public_key(value) and value.startswith("X"):
        return value, None
    if value.startswith("SX"):
        given = keys.from_seed(value)
        return given.public_key, None
    raise UsageProblem(f"--curve {shown(value)}: pass an X public key, an SX seed, or 'generate'")


def edit_authcallout(
    ws: Workspace,
    account: str | None,
    spec: AuthCalloutEdit,
    *,
    operator: str | None = None,
    signer: str | None = None,
) -> Saved:
    """Configure (or with disable, remove) the account's auth callout."""
    ref = resolve_account(ws, account, operator)
    if spec.disable and not spec.is_empty():
        raise UsageProblem("--disable cannot be combined with other authcallout flags")
    if not spec.disable and spec.is_empty():
        raise UsageProblem(
            "nothing to change: pass --auth-user, --allowed-account, --curve or --disable"
        )
    add_users = [_user_key(ws, ref, u) for u in spec.auth_users]
    rm_users = [_user_key(ws, ref, u) for u in spec.rm_auth_users]
    add_accounts = [account_target(ws, ref.operator, a) for a in spec.allowed_accounts]
    rm_accounts = [account_target(ws, ref.operator, a) for a in spec.rm_allowed_accounts]
    curve, pair = _curve(ws, spec.curve) if spec.curve else ("", None)

    def apply(claims: AccountClaims) -> None:
        if spec.disable:
            claims.authorization = ExternalAuthorization()
            return
        auth = claims.authorization
        auth.auth_users = [u for u in auth.auth_users if u not in rm_users]
        auth.auth_users += [u for u in add_users if u not in auth.auth_users]
        auth.allowed_accounts = [a for a in auth.allowed_accounts if a not in rm_accounts]
        auth.allowed_accounts += [a for a in add_accounts if a not in auth.allowed_accounts]
        if spec.rm_curve:
            auth.xkey = ""
        if curve:
            auth.xkey = curve
        if auth.allowed_accounts and not auth.auth_users:
            raise UsageProblem("allowed accounts need at least one --auth-user")

    # the curve seed goes first (the JWT never names a lost key); a failed edit takes it back
    with all_or_nothing():
        if pair is not None:
            ws.keystore.put(pair.seed)
        claims, _ = update_account(ws, ref, apply, signer=signer)
    saved = account_saved(ws, ref, claims)
    if pair is not None:
        saved.notes.append(f"generated curve key {pair.public_key} (seed stored)")
    return saved
