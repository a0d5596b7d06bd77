"""add operator (new key, given key, or an imported operator JWT)."""

from __future__ import annotations

from dataclasses import dataclass

from nscpy import keys
from nscpy.actions.entities import Saved, load_operator
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.signers import load_key_value
from nscpy.actions.workspace import Workspace
from nscpy.jwt import JWTError, OperatorClaims, ValidationResults, decode_operator, encode
from nscpy.store.journal import all_or_nothing


@dataclass
class OperatorSpec:
    """What `add operator` was asked for."""

    name: str
    key: str | None = None
    sys: bool = False
    generate_signing_key: bool = False
    start: int = 0
    expiry: int = 0


def add_operator(ws: Workspace, spec: OperatorSpec) -> list[Saved]:
    """Create an operator (and with sys=True a SYS account and sys user); select it.

    All or nothing: if any write fails, the seeds, files and directories made are removed."""
    with all_or_nothing():
        return _add_operator(ws, spec)


def _add_operator(ws: Workspace, spec: OperatorSpec) -> list[Saved]:
    from nscpy.actions.accounts import AccountSpec, add_account
    from nscpy.actions.users import UserSpec, add_user

    name = ws.store.new_operator_name(spec.name)
    if ws.store.has_operator(name):
        raise ActionError(f"operator {name!r} already exists")
    pair = (
        load_key_value(spec.key, ws.keystore)
        if spec.key
        else keys.create_pair(keys.Prefix.OPERATOR)
    )
    if pair.prefix is not keys.Prefix.OPERATOR:
        raise UsageProblem(f"-K must be an operator key (O...), got a {pair.prefix.role} key")
    claims = OperatorClaims.new(pair.public_key)
    claims.name = name
    claims.not_before = spec.start
    claims.expires = spec.expiry
    signing: keys.KeyPair | None = None
    if spec.generate_signing_key:
        signing = keys.create_pair(keys.Prefix.OPERATOR)
        claims.signing_keys.append(signing.public_key)
    now = ws.now()
    token = encode(claims, pair, iat=now)
    seed_stored = False
    if not spec.key:
        ws.keystore.put(pair.seed)
        seed_stored = True
    if signing is not None:
        ws.keystore.put(signing.seed)
    ws.store.create_operator(name, token)
    ws.select(operator=name)
    saved = [
        Saved("operator", name, pair.public_key, ws.paths.operator_jwt(name), None, seed_stored)
    ]
    if spec.sys:
        signer = signing.public_key if signing is not None else None
        saved += add_account(ws, AccountSpec(name="SYS", operator=name, signer=signer))
        sys_pub = saved[-1].public_key
        saved += add_user(ws, UserSpec(name="sys", account="SYS", operator=name))
        set_system_account(ws, name, sys_pub)
        ws.select(operator=name, account="")
    return saved


def set_system_account(ws: Workspace, operator: str, account_public_key: str) -> None:
    """Re-sign the operator JWT with system_account set."""
    claims = load_operator(ws, operator)
    claims.system_account = account_public_key
    resign_operator(ws, operator, claims)


def resign_operator(ws: Workspace, operator: str, claims: OperatorClaims) -> str:
    """Sign the operator claims with the identity key (needed for self-signed operator JWTs)."""
    seed = ws.keystore.get(claims.subject)
    if seed is None:
        raise ActionError(
            f"the operator identity seed {claims.subject} is not in the keystore; "
            "import it with 'nscpy import keys' to edit the operator"
        )
    token = encode(claims, load_key_value(seed, ws.keystore), iat=ws.now())
    ws.store.write_operator(operator, token)
    return token


def import_operator(ws: Workspace, token: str, *, force: bool = False) -> Saved:
    """Add an operator from its JWT (the seed may be imported separately)."""
    try:
        claims = decode_operator(token.strip())
    except JWTError as exc:
        raise ActionError(f"cannot import operator: {exc}") from None
    results = ValidationResults()
    claims.validate(results, now=ws.now())
    if results.is_blocking(True):
        raise ActionError(f"cannot import operator: {results.issues[0].description}")
    name = ws.store.new_operator_name(claims.name or claims.subject)
    if ws.store.has_operator(name):
        if not force:
            raise ActionError(f"operator {name!r} already exists; pass --force to overwrite")
        ws.store.write_operator(name, token.strip())
    else:
        ws.store.create_operator(name, token.strip())
    ws.select(operator=name)
    return Saved("operator", name, claims.subject, ws.paths.operator_jwt(name))
