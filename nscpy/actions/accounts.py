"""add account: a new account key, its JWT signed by the operator (identity or signing key)."""

from __future__ import annotations

from dataclasses import dataclass, field

from nscpy import keys
from nscpy.actions.entities import Saved, load_operator
from nscpy.actions.errors import ActionError, NoSigner, UsageProblem
from nscpy.actions.permspec import PermissionSpec
from nscpy.actions.signers import account_signer, load_key_value
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, OperatorClaims, encode
from nscpy.keys import KeyPair
from nscpy.store.journal import all_or_nothing


@dataclass
class AccountSpec:
    """What `add account` was asked for."""

    name: str
    operator: str | None = None
    signer: str | None = None
    public_key: str | None = None
    start: int = 0
    expiry: int = 0
    default_permissions: PermissionSpec = field(default_factory=PermissionSpec)


def add_account(ws: Workspace, spec: AccountSpec) -> list[Saved]:
    """Create the account JWT (and seed unless -k was given); select it."""
    operator = ws.operator_name(spec.operator)
    name = ws.store.new_account_name(operator, spec.name)
    existing = {a.lower() for a in ws.store.list_accounts(operator)}
    if name.lower() in existing:
        raise ActionError(f"account {name!r} already exists under operator {operator!r}")
    op = load_operator(ws, operator)
    signer = _operator_signer_or_none(ws, op, spec)
    pair: keys.KeyPair | None = None
    if spec.public_key:
        given = spec.public_key.strip()
        if keys.is_valid_public_key(given):
            public_key = given
        else:
            public_key = load_key_value(given, ws.keystore).public_key
        if not public_key.startswith("A"):
            raise UsageProblem(f"--public-key must be an account key (A...), got {public_key}")
    else:
        pair = keys.create_pair(keys.Prefix.ACCOUNT)
        public_key = pair.public_key
    claims = AccountClaims.new(public_key)
    claims.name = name
    claims.not_before = spec.start
    claims.expires = spec.expiry
    spec.default_permissions.apply(claims.default_permissions)
    notes = []
    if signer is None:
        if pair is None:
            raise NoSigner(
                f"no key of operator {operator!r} is in the keystore and an account given by "
                "-k cannot sign itself: pass an operator key with -K"
            )
        # nsc's decentralized flow: the account signs itself until the operator imports it
        signer = pair
        notes.append(
            f"self-signed: no key of operator {operator!r} is in this keystore; send "
            f"'nscpy describe account {name} --raw' to the operator, who signs it with "
            "'nscpy import account --file FILE'"
        )
    token = encode(claims, signer, iat=ws.now())
    # the seed goes first (a stored JWT always has its key); a failed JWT write takes it back
    with all_or_nothing():
        if pair is not None:
            ws.keystore.put(pair.seed)
        path = ws.store.create_account(operator, name, token)
        ws.select(operator=operator, account=name)
    return [Saved("account", name, public_key, path, None, pair is not None, notes)]


def _operator_signer_or_none(
    ws: Workspace, op: OperatorClaims, spec: AccountSpec
) -> KeyPair | None:
    """The operator key that signs the new account; None when the keystore holds no key of
    the operator at all and none was given (a team store that imported only the operator's
    JWT: nsc then lets the account sign itself). Any other missing signer is an error."""
    if spec.signer or any(ws.keystore.has(k) for k in (op.subject, *op.signing_keys)):
        return account_signer(ws.keystore, op, spec.signer)
    return None
