"""edit signing-key: scoped signing keys, i.e. user-permission templates on account signing keys.

Template strings such as {{name()}} or {{tag(team)}} are stored verbatim: nats-server expands
them when a user signed by the scoped key connects.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nscpy import keys
from nscpy.actions.edit_common import account_saved, resolve_account, update_account
from nscpy.actions.edit_limits import LimitsEdit
from nscpy.actions.entities import Saved
from nscpy.actions.errors import UsageProblem
from nscpy.actions.lookup import key_for_role
from nscpy.actions.signers import load_key_value
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, UserScope
from nscpy.redact import shown
from nscpy.store.journal import all_or_nothing


@dataclass
class ScopeEdit:
    """What `edit signing-key` was asked for."""

    key: str
    """A public key, seed or seed file of an account signing key, a role name, or 'generate'."""
    account: str | None = None
    operator: str | None = None
    signer: str | None = None
    role: str | None = None
    description: str | None = None
    limits: LimitsEdit = field(default_factory=LimitsEdit)


def edit_signing_key(ws: Workspace, spec: ScopeEdit) -> Saved:
    """Create or change the scope of an account signing key (generate makes a new key)."""
    ref = resolve_account(ws, spec.account, spec.operator)
    spec.limits.check()
    pair = keys.create_pair(keys.Prefix.ACCOUNT) if spec.key == "generate" else None
    # the new key's seed goes first (the JWT never names a lost key); a failed edit takes it back
    with all_or_nothing():
        if pair is not None:
            ws.keystore.put(pair.seed)
        claims, scope = update_account(
            ws, ref, lambda c: _apply(ws, c, spec, pair), signer=spec.signer
        )
    saved = account_saved(ws, ref, claims)
    if pair is not None:
        saved.notes.append(f"generated signing key {pair.public_key} (seed stored)")
    saved.notes.append(f"scoped signing key {scope.key} has role {scope.role!r}")
    return saved


def _apply(
    ws: Workspace, claims: AccountClaims, spec: ScopeEdit, pair: keys.KeyPair | None
) -> UserScope:
    if pair is not None:
        key = pair.public_key
    else:
        key = _find_key(ws, claims, spec.key)
    scope = claims.signing_keys.get_scope(key) or UserScope(key=key)
    role = spec.role if spec.role is not None else scope.role
    if role and role != scope.role:  # a kept role may be shared (by a rotation's twin keys)
        for other_key, other in claims.signing_keys.items():
            if other is not None and other_key != key and other.role == role:
                raise UsageProblem(
                    f"role {role!r} already belongs to signing key {other_key}; choose another role"
                )
    scope.role = role
    if spec.description is not None:
        scope.description = spec.description
    spec.limits.apply(scope.template)
    claims.signing_keys.add_scoped(scope)
    return scope


def _find_key(ws: Workspace, claims: AccountClaims, value: str) -> str:
    role_key = key_for_role(claims.signing_keys, value)
    if role_key is not None:
        return role_key
    text = value.strip()
    if keys.is_valid_public_key(text):
        key = text
    elif text.startswith("S") or "/" in text or text.endswith(".nk"):
        key = load_key_value(text, ws.keystore).public_key
    else:
        raise UsageProblem(
            f"--sk {shown(value)} is neither a signing key nor a scoped role of account "
            f"{claims.name!r}: pass a public key, a role name, or 'generate'"
        )
    if key not in claims.signing_keys:
        raise UsageProblem(
            f"{key} is not a signing key of account {claims.name!r}: add it with "
            "'nscpy edit account --sk KEY' or use --sk generate"
        )
    return key
