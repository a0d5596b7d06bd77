"""import account / import user: bring JWTs (and a creds file's seed) made elsewhere into the store.

As nsc: an account must be issued by this operator (self-signed ones are re-signed with its key;
with force, so are accounts of another operator); a user must be issued by a stored account or
one of its signing keys. Validation issues block unless skip. Nothing is written until every
check has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from nscpy import keys
from nscpy.actions.entities import load_account, load_operator
from nscpy.actions.errors import ActionError
from nscpy.actions.report import Report
from nscpy.actions.signers import account_signer, may_sign_account, may_sign_user
from nscpy.actions.users import write_creds_if_possible
from nscpy.actions.workspace import Workspace
from nscpy.jwt import (
    AccountClaims,
    AnyClaims,
    Claims,
    JWTError,
    UserClaims,
    ValidationResults,
    WrongKind,
    decode_kind,
    encode,
    parse_decorated_jwt,
    parse_decorated_seed,
)
from nscpy.store.journal import all_or_nothing

C = TypeVar("C", bound=Claims)


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8")
    except IsADirectoryError:
        raise ActionError(f"{str(path)!r} is a directory, not a JWT file") from None
    except FileNotFoundError:
        raise ActionError(f"{str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ActionError(f"cannot read {str(path)!r}: {exc}") from None


def _decode(text: str, path: Path, kind: type[C]) -> C:
    token = parse_decorated_jwt(text).strip()
    try:
        return decode_kind(token, kind)
    except WrongKind as exc:
        raise ActionError(f"{str(path)!r}: {exc}") from None
    except JWTError as exc:
        raise ActionError(f"{str(path)!r} does not hold a valid JWT: {exc}") from None


def _check(claims: AnyClaims, ws: Workspace, skip: bool, report: Report) -> None:
    results = ValidationResults()
    claims.validate(results, now=ws.now())
    if results.is_blocking(True) and not skip:
        first = next(i for i in results.issues if i.blocking or i.time_check)
        raise ActionError(
            f"the JWT does not validate ({first.description}); --skip to import anyway"
        )
    for issue in results.issues:
        report.warn(f"validation: {issue.description}")


@dataclass
class ImportAccount:
    """What `import account` was asked for."""

    file: Path
    operator: str | None = None
    overwrite: bool = False
    skip: bool = False
    force: bool = False
    signer: str | None = None
    text: str | None = None
    """The file's content when it was read already (`-f -`: stdin); file then only labels it."""


def import_account(ws: Workspace, spec: ImportAccount) -> Report:
    """Store an account JWT issued by (or re-signed for) this operator."""
    text = spec.text if spec.text is not None else _read(spec.file)
    claims = _decode(text, spec.file, AccountClaims)
    operator = ws.operator_name(spec.operator)
    report = Report(data={"operator": operator, "public_key": claims.subject})
    _check(claims, ws, spec.skip, report)
    name = ws.store.new_account_name(operator, claims.name or claims.subject)
    existing = ws.store.find_account(operator, name)
    if existing is not None:
        if not spec.overwrite:
            raise ActionError(
                f"account {existing!r} already exists; pass --overwrite to replace it"
            )
        old = load_account(ws, operator, existing)
        if old.subject != claims.subject:
            raise ActionError(
                f"account {existing!r} exists with another key ({old.subject}); "
                "only the name collides: rename one of them"
            )
        name = existing
    op = load_operator(ws, operator)
    token = parse_decorated_jwt(text).strip()
    if ws.store.info(operator).managed and claims.is_self_signed():
        raise ActionError("a managed operator cannot import a self-signed account")
    trusted = may_sign_account(op, claims.issuer)
    if claims.is_self_signed() or (not trusted and spec.force):
        signer = account_signer(ws.keystore, op, spec.signer)
        why = "self-signed" if claims.is_self_signed() else f"issued by {claims.issuer}"
        token = encode(claims, signer, iat=ws.now())
        report.ok(f"re-signed the account ({why}) with {signer.public_key}")
    elif not trusted:
        raise ActionError(
            f"the account is issued by {claims.issuer}, not by operator {operator!r} or its "
            "signing keys; pass --force to re-sign it with this operator's key"
        )
    path = (
        ws.store.write_account(operator, name, token)
        if existing is not None
        else ws.store.create_account(operator, name, token)
    )
    report.data.update(name=name, jwt=str(path))
    report.ok(f"imported account {name!r} ({claims.subject})")
    return report


@dataclass
class ImportUser:
    """What `import user` was asked for."""

    file: Path
    operator: str | None = None
    overwrite: bool = False
    skip: bool = False
    text: str | None = None
    """The file's content when it was read already (`-f -`: stdin); file then only labels it."""


def _seed_of(text: str, subject: str) -> keys.KeyPair | None:
    if "SEED-----" not in text:
        return None
    try:
        seed = parse_decorated_seed(text)
        pair = keys.from_seed(seed)
    except (JWTError, keys.NKeyError, ValueError) as exc:
        raise ActionError(f"the creds file's seed is not valid: {exc}") from None
    if not isinstance(pair, keys.KeyPair) or pair.public_key != subject:
        raise ActionError(f"the creds file's seed is not the seed of user {subject}")
    return pair


def import_user(ws: Workspace, spec: ImportUser) -> Report:
    """Store a user JWT (from a .jwt or .creds file) under the account that issued it."""
    text = spec.text if spec.text is not None else _read(spec.file)
    claims = _decode(text, spec.file, UserClaims)
    pair = _seed_of(text, claims.subject)
    operator = ws.operator_name(spec.operator)
    report = Report(data={"operator": operator, "public_key": claims.subject})
    _check(claims, ws, spec.skip, report)
    issuer_account = claims.issuer_account or claims.issuer
    account = ws.find_account_by_key(operator, issuer_account)
    if account is None:
        raise ActionError(
            f"the user's account {issuer_account} is not in operator {operator!r}; import it first"
        )
    acct = load_account(ws, operator, account)
    if not may_sign_user(load_operator(ws, operator), acct, claims.issuer):
        raise ActionError(
            f"the user is signed by {claims.issuer}, which may not sign users of account "
            f"{account!r} (its identity key, unless the operator requires signing keys, or one "
            "of its signing keys)"
        )
    name = ws.store.new_user_name(operator, account, claims.name or claims.subject)
    exists = ws.store.has_user(operator, account, name)
    if exists:
        if not spec.overwrite:
            raise ActionError(
                f"user {name!r} already exists in account {account!r}; pass --overwrite"
            )
        old = ws.store.read_user(operator, account, name)
        old_path = ws.paths.user_jwt(operator, account, name)
        if _decode(old, old_path, UserClaims).subject != claims.subject:
            raise ActionError(
                f"user {name!r} exists with another key; only the name collides: rename one"
            )
    token = parse_decorated_jwt(text).strip()
    # seed, JWT, creds: if a later one fails, the earlier ones are taken back
    with all_or_nothing():
        if pair is not None:
            ws.keystore.put(pair.seed)
        if exists:
            ws.store.write_user(operator, account, name, token)
        else:
            ws.store.create_user(operator, account, name, token)
        creds = write_creds_if_possible(ws, operator, account, name, token, claims.subject)
    if pair is not None:
        report.ok(f"stored the seed of {claims.subject}")
    report.data.update(account=account, name=name, creds=str(creds) if creds else None)
    report.ok(f"imported user {name!r} into account {account!r}")
    return report
