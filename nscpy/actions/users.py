"""add user and generate creds: a user key, its JWT signed by the account, and its .creds file."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from nscpy import keys
from nscpy.actions.edit_common import normalise_tags
from nscpy.actions.edit_limits import check_cidr
from nscpy.actions.entities import Saved, load_account, load_operator, load_user
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.lookup import find_user as find_user  # re-exported: moved for start-up time
from nscpy.actions.permspec import PermissionSpec
from nscpy.actions.signers import load_key_value, user_signer
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, UserClaims, encode, format_user_creds
from nscpy.store.journal import all_or_nothing


@dataclass
class UserSpec:
    """What `add user` was asked for."""

    name: str
    account: str | None = None
    operator: str | None = None
    signer: str | None = None
    public_key: str | None = None
    permissions: PermissionSpec = field(default_factory=PermissionSpec)
    bearer: bool = False
    tags: list[str] = field(default_factory=list)
    source_networks: list[str] = field(default_factory=list)
    start: int = 0
    expiry: int = 0


def build_user_claims(
    acct: AccountClaims, signer: keys.KeyPair, public_key: str, spec: UserSpec
) -> UserClaims:
    """The user claims for spec, scoped (no permissions) when signer is a scoped signing key."""
    scope = acct.signing_keys.get_scope(signer.public_key)
    claims = UserClaims.new(public_key)
    claims.name = spec.name
    claims.not_before = spec.start
    claims.expires = spec.expiry
    claims.tags = normalise_tags(spec.tags)
    if signer.public_key != acct.subject:
        claims.issuer_account = acct.subject
    if scope is not None:
        if not spec.permissions.is_empty() or spec.bearer or spec.source_networks:
            raise UsageProblem(
                f"user {spec.name!r} is signed by the scoped key of role {scope.role!r}: "
                "scoped users take their permissions and limits from the scope, "
                "so drop the permission, --bearer and --source-network flags"
            )
        claims.set_scoped()
        return claims
    spec.permissions.apply(claims)
    claims.bearer_token = spec.bearer
    for cidr in spec.source_networks:
        check_cidr(cidr)
        if cidr not in claims.src:
            claims.src.append(cidr)
    return claims


def add_user(ws: Workspace, spec: UserSpec) -> list[Saved]:
    """Create the user JWT and seed, and write its creds when the seed is known."""
    operator = ws.operator_name(spec.operator)
    account = ws.account_name(operator, spec.account)
    name = ws.store.new_user_name(operator, account, spec.name)
    spec = replace(spec, name=name)  # the NFC form, in the JWT as in the file name
    if ws.store.has_user(operator, account, name):
        raise ActionError(f"user {name!r} already exists in account {account!r}")
    acct = load_account(ws, operator, account)
    signer = user_signer(ws.keystore, load_operator(ws, operator), acct, spec.signer)
    pair: keys.KeyPair | None = None
    if spec.public_key:
        given = spec.public_key.strip()
        public_key = (
            given
            if keys.is_valid_public_key(given)
            else load_key_value(given, ws.keystore).public_key
        )
        if not public_key.startswith("U"):
            raise UsageProblem(f"--public-key must be a user key (U...), got {public_key}")
    else:
        pair = keys.create_pair(keys.Prefix.USER)
        public_key = pair.public_key
    claims = build_user_claims(acct, signer, public_key, spec)
    token = encode(claims, signer, iat=ws.now())
    # refuse a store with linked directories before the first write, not between two
    ws.store.check_writable(ws.paths.user_jwt(operator, account, name))
    ws.keystore.check_writable(
        ws.paths.key_path(public_key), ws.paths.creds_path(operator, account, name)
    )
    # seed, JWT, creds: if a later one fails, the earlier ones are taken back
    with all_or_nothing():
        if pair is not None:
            ws.keystore.put(pair.seed)
        path = ws.store.create_user(operator, account, name, token)
        creds = write_creds_if_possible(ws, operator, account, name, token, public_key)
    return [Saved("user", name, public_key, path, creds, pair is not None)]


def write_creds_if_possible(
    ws: Workspace, operator: str, account: str, user: str, token: str, public_key: str
) -> Path | None:
    """(Re)write the user's creds file when the keystore has the user's seed."""
    seed = ws.keystore.get(public_key)
    if seed is None:
        return None
    return ws.keystore.write_creds(operator, account, user, format_user_creds(token, seed))


def creds_text(ws: Workspace, account: str | None, user: str, operator: str | None = None) -> str:
    """The creds file text for a stored user (its seed must be in the keystore)."""
    op = ws.operator_name(operator)
    acct = ws.account_name(op, account)
    claims = load_user(ws, op, acct, user)
    seed = ws.keystore.get(claims.subject)
    if seed is None:
        raise ActionError(
            f"the seed of user {user!r} ({claims.subject}) is not in the keystore; "
            "creds need it: import it with 'nscpy import keys'"
        )
    return format_user_creds(ws.store.read_user(op, acct, user).strip(), seed)
