"""callout serve: work out the service's keys, its connection and its authorizer.

Config mode takes everything from files (`--issuer-seed`, `--xkey-seed`, `--creds` or
`--user/--password`). Operator mode (`-a ACCOUNT`) reads the account's `authorization` claims
from the store: the issuer is the account key (or a signing key whose seed is kept), the service
connects as one of the `auth_users` whose seed is kept, the xkey seed is the one `edit
authcallout --curve generate` stored, and every allowed account whose key is kept can receive
users.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nscpy import keys
from nscpy.actions.entities import load_account, load_operator
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.signers import user_signer_keys
from nscpy.actions.verified import verified_users
from nscpy.actions.workspace import Workspace
from nscpy.callout.service import Authorizer, ServiceKeys
from nscpy.jwt import ANY_ACCOUNT, AccountClaims, OperatorClaims

__all__ = ["ServeSpec", "ServeSetup", "load_authorizer", "serve_setup"]


@dataclass
class ServeSpec:
    """What `callout serve` was asked for."""

    url: str = ""
    user: str | None = None
    password: str | None = None
    creds: str | None = None
    issuer_seed: str | None = None
    xkey_seed: str | None = None
    account: str | None = None
    auth_user: str | None = None
    operator: str | None = None
    authorizer: str | None = None
    map_file: str | None = None


@dataclass
class ServeSetup:
    """Everything the runner needs: how to connect, the keys, the authorizer."""

    url: str
    connect: dict[str, Any] = field(repr=False)
    keys: ServiceKeys = field(repr=False)
    authorizer: Authorizer = field(repr=False)
    mode: str = "config"


def load_authorizer(spec: ServeSpec) -> Authorizer:
    """`--authorizer module:function` or `--map FILE` (exactly one)."""
    if (spec.authorizer is None) == (spec.map_file is None):
        raise UsageProblem("pass exactly one of --authorizer MODULE:FUNCTION or --map FILE")
    if spec.map_file is not None:
        from nscpy.callout.usermap import load_user_map

        return load_user_map(Path(spec.map_file))
    assert spec.authorizer is not None
    module_name, sep, attr = spec.authorizer.partition(":")
    if not sep or not module_name or not attr:
        raise UsageProblem(f"--authorizer {spec.authorizer!r}: expected MODULE:FUNCTION")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ActionError(f"--authorizer: cannot import {module_name!r}: {exc}") from None
    function = getattr(module, attr, None)
    if not callable(function):
        raise ActionError(f"--authorizer: {module_name!r} has no callable {attr!r}")
    authorizer: Authorizer = function
    return authorizer


def _seed_file(path: str, prefix: keys.Prefix, flag: str) -> keys.KeyPair | keys.CurveKeyPair:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ActionError(f"{flag}: cannot read {path}: {exc.strerror}") from None
    seeds = [w for w in text.split() if w.startswith("S")]
    if len(seeds) != 1:
        raise ActionError(f"{flag}: {path} must hold exactly one seed")
    try:
        pair = keys.from_seed(seeds[0])
    except keys.NKeyError as exc:
        raise ActionError(f"{flag}: {path} does not hold a valid seed: {exc}") from None
    if pair.prefix is not prefix:
        raise ActionError(f"{flag}: expected a {prefix.role} seed, got a {pair.prefix.role} seed")
    return pair


def _config_mode(spec: ServeSpec) -> tuple[dict[str, Any], ServiceKeys]:
    if spec.issuer_seed is None:
        raise UsageProblem("config mode needs --issuer-seed FILE (or -a ACCOUNT for operator mode)")
    if spec.creds is not None and (spec.user or spec.password):
        raise UsageProblem("pass --creds or --user/--password, not both")
    if spec.creds is None and not (spec.user and spec.password is not None):
        raise UsageProblem("config mode connects with --user NAME --password PW or --creds FILE")
    issuer = _seed_file(spec.issuer_seed, keys.Prefix.ACCOUNT, "--issuer-seed")
    assert isinstance(issuer, keys.KeyPair)
    xkey = None
    if spec.xkey_seed is not None:
        pair = _seed_file(spec.xkey_seed, keys.Prefix.CURVE, "--xkey-seed")
        assert isinstance(pair, keys.CurveKeyPair)
        xkey = pair
    connect: dict[str, Any] = (
        {"user_credentials": spec.creds}
        if spec.creds is not None
        else {"user": spec.user, "password": spec.password}
    )
    return connect, ServiceKeys(issuer, xkey=xkey)


def _kept_pair(ws: Workspace, public_key: str) -> keys.KeyPair | None:
    seed = ws.keystore.get(public_key)
    if seed is None:
        return None
    pair = keys.from_seed(seed)
    return pair if isinstance(pair, keys.KeyPair) else None


def _signer(ws: Workspace, op: OperatorClaims, claims: AccountClaims) -> keys.KeyPair | None:
    """The first kept key the signer rule lets sign the account's users (scoped keys last:
    their template rules what the users get)."""
    for key in user_signer_keys(op, claims):
        pair = _kept_pair(ws, key)
        if pair is not None:
            return pair
    return None


def _operator_mode(ws: Workspace, spec: ServeSpec) -> tuple[dict[str, Any], ServiceKeys]:
    for flag, value in (
        ("--issuer-seed", spec.issuer_seed),
        ("--user", spec.user),
        ("--password", spec.password),
    ):
        if value is not None:
            raise UsageProblem(f"{flag} is for config mode; -a takes the keys from the store")
    operator = ws.operator_name(spec.operator)
    account = ws.account_name(operator, spec.account)
    claims = load_account(ws, operator, account)
    auth = claims.authorization
    if not auth.auth_users:
        raise ActionError(
            f"account {account!r} has no auth callout: 'nscpy edit authcallout --auth-user ...'"
        )
    op = load_operator(ws, operator)
    issuer = _signer(ws, op, claims)
    if issuer is None:
        raise ActionError(f"no seed of account {account!r} or its signing keys is in the keystore")
    connect: dict[str, Any]
    if spec.creds is not None:
        connect = {"user_credentials": spec.creds}
    else:
        connect = _auth_user_connect(ws, operator, account, spec, list(auth.auth_users))
    xkey = None
    if spec.xkey_seed is not None:
        pair = _seed_file(spec.xkey_seed, keys.Prefix.CURVE, "--xkey-seed")
        assert isinstance(pair, keys.CurveKeyPair)
        xkey = pair
    elif auth.xkey:
        seed = ws.keystore.get(auth.xkey)
        if seed is None:
            raise ActionError(
                f"the account's xkey {auth.xkey} has no seed in the keystore: pass --xkey-seed"
            )
        pair = keys.from_seed(seed)
        assert isinstance(pair, keys.CurveKeyPair)
        xkey = pair
    names: dict[str, str] = {}
    signers: dict[str, keys.KeyPair] = {}
    scoped: set[str] = set()
    for other in ws.store.list_accounts(operator):
        other_claims = load_account(ws, operator, other)
        names[other] = other_claims.subject
        if other_claims.subject in auth.allowed_accounts or auth.allowed_accounts == [ANY_ACCOUNT]:
            signer = _signer(ws, op, other_claims)
            if signer is not None:
                signers[other_claims.subject] = signer
                if other_claims.signing_keys.get(signer.public_key) is not None:
                    scoped.add(signer.public_key)
    keys_ = ServiceKeys(
        issuer,
        issuer_account=claims.subject,
        operator_mode=True,
        accounts=signers,
        account_names=names,
        xkey=xkey,
        scoped=scoped,
    )
    return connect, keys_


def _auth_user_connect(
    ws: Workspace, operator: str, account: str, spec: ServeSpec, auth_users: list[str]
) -> dict[str, Any]:
    """nats-py callbacks presenting a stored auth user's JWT and signing with its seed."""
    from nscpy import resolver

    candidates = []
    for stored in verified_users(ws.store, operator, account):
        if spec.auth_user is not None and stored.name != spec.auth_user:
            continue
        if stored.claims.subject in auth_users:
            candidates.append(stored)
    if not candidates:
        which = f"user {spec.auth_user!r}" if spec.auth_user else "none of its users"
        raise ActionError(f"account {account!r}: {which} is an auth user of the callout")
    if len(candidates) > 1:
        names = ", ".join(c.name for c in candidates)
        raise UsageProblem(
            f"account {account!r} has several auth users ({names}): pick one with --auth-user"
        )
    chosen = candidates[0]
    seed = ws.keystore.get(chosen.claims.subject)
    if seed is None:
        raise ActionError(f"the seed of auth user {chosen.name!r} is not in the keystore")
    opts = resolver.ConnectOptions([spec.url], chosen.token, seed)
    return {"user_jwt_cb": opts.jwt_callback(), "signature_cb": opts.signature_callback()}


def serve_setup(ws: Workspace | None, spec: ServeSpec) -> ServeSetup:
    """Resolve the flags into a ServeSetup; ActionError/UsageProblem when they do not fit."""
    if not spec.url:
        raise UsageProblem("pass the server URL with -u nats://HOST:PORT")
    authorizer = load_authorizer(spec)
    if spec.account is not None:
        assert ws is not None
        connect, service_keys = _operator_mode(ws, spec)
        return ServeSetup(spec.url, connect, service_keys, authorizer, "operator")
    connect, service_keys = _config_mode(spec)
    return ServeSetup(spec.url, connect, service_keys, authorizer, "config")
