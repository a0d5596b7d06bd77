"""validate and expirations: read-only health reports over the store.

validate runs each JWT's own validation plus the chain rules nsc checks (the operator and each
account DidSign what is under them, strict signing-key mode, no JetStream on the system
account). A JWT that does not decode is reported as an issue rather than stopping the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.signers import may_sign_user
from nscpy.actions.workspace import Workspace
from nscpy.jwt import (
    AccountClaims,
    AnyClaims,
    Claims,
    JWTError,
    OperatorClaims,
    UserClaims,
    ValidationIssue,
    ValidationResults,
    WrongKind,
    decode,
    decode_kind,
    decode_user,
    parse_decorated_jwt,
    parse_decorated_seed,
)
from nscpy.store.errors import StoreError
from nscpy.store.keystore import public_key_of


@dataclass
class Section:
    """The issues found for one operator, account or token."""

    title: str
    issues: list[ValidationIssue] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Blocking or time-check issues make validate exit 1 (as nsc)."""
        return any(i.blocking or i.time_check for i in self.issues)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready section."""
        return {
            "title": self.title,
            "issues": [
                {"description": i.description, "blocking": i.blocking, "time_check": i.time_check}
                for i in self.issues
            ],
        }


C = TypeVar("C", bound=Claims)


def _decoded(
    read: Callable[[], str], what: str, section: Section, path: Path, kind: type[C]
) -> C | None:
    """The claims of one stored JWT file, or None with a blocking issue naming the file."""
    try:
        token = read()
    except StoreError as exc:  # unreadable, not UTF-8, missing: say which file
        section.issues.append(ValidationIssue(f"{what} JWT cannot be read: {exc}", True))
        return None
    try:
        return decode_kind(token.strip(), kind)
    except WrongKind as exc:
        section.issues.append(ValidationIssue(f"{what} JWT ({str(path)!r}): {exc}", True))
    except JWTError as exc:
        section.issues.append(
            ValidationIssue(f"{what} JWT ({str(path)!r}) does not decode: {exc}", True)
        )
    return None


def _validate(claims: AnyClaims, now: int, prefix: str = "") -> list[ValidationIssue]:
    results = ValidationResults()
    claims.validate(results, now=now)
    return [
        ValidationIssue(prefix + i.description, i.blocking, i.time_check) for i in results.issues
    ]


def _rotations_in_progress(ws: Workspace, operator: str) -> list[ValidationIssue]:
    """A warning per key rotation left in progress (so a forgotten one is seen)."""
    from nscpy.actions.rotation import record_path, rotations_in_progress

    issues: list[ValidationIssue] = []
    for account, r in rotations_in_progress(ws, operator):
        what = f"operator {operator!r}" if account is None else f"account {account!r}"
        text = f"{r.kind} rotation of {what} in progress ({r.phase}): old key {r.old}, new key "
        if account is not None and not ws.store.has_account(operator, account):
            path = record_path(ws, operator, account)
            text += f"{r.new}; the account is gone: remove {str(path)!r}"
        else:
            text += f"{r.new}; complete it with 'nscpy rotate {r.kind} finish'"
        issues.append(ValidationIssue(text, False))
    return issues


def validate_store(
    ws: Workspace, *, account: str | None = None, all_accounts: bool = False
) -> list[Section]:
    """Sections for the operator and the chosen accounts (-a, -A, else the current one)."""
    if account and all_accounts:
        raise UsageProblem("pass either -a ACCOUNT or -A, not both")
    operator = ws.operator_name()
    now = ws.now()
    op_section = Section(f"Operator {operator!r}")
    op = _decoded(
        lambda: ws.store.read_operator(operator),
        "the operator",
        op_section,
        ws.paths.operator_jwt(operator),
        OperatorClaims,
    )
    if op is not None:
        op_section.issues += _validate(op, now)
        if not op.did_sign(op):
            op_section.issues.append(
                ValidationIssue("operator is not issued by operator or operator signing key", True)
            )
    op_section.issues += _rotations_in_progress(ws, operator)
    if all_accounts:
        names = ws.store.list_accounts(operator)
    elif account:
        names = [ws.account_name(operator, account)]
    else:
        try:
            names = [ws.account_name(operator, None)]
        except ActionError:
            names = []  # no current account: nsc then checks the operator alone
    sections = [op_section]
    for name in names:
        sections.append(_account_section(ws, operator, name, op, now))
    sections.append(_keystore_section(ws))
    return sections


def _keystore_section(ws: Workspace) -> Section:
    """Every seed file in the keystore: named after its key, in its shard, holding its seed."""
    section = Section(f"Keystore {str(ws.paths.keystore_dir)!r}")
    problems = getattr(ws.keystore.backend, "problems", None)
    if problems is not None:  # the OS keyring backend has no files to check
        section.issues += [ValidationIssue(p, True) for p in problems()]
    return section


def _creds_issue(ws: Workspace, operator: str, account: str, user: str, subject: str) -> str:
    """Why the user's creds file is unusable ('' if it is fine or absent)."""
    path = ws.paths.creds_path(operator, account, user)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError):
        return f"creds file {str(path)!r} cannot be read as text"
    try:
        seed_key = public_key_of(parse_decorated_seed(text))
        jwt_subject = decode_user(parse_decorated_jwt(text)).subject
    except (ValueError, KeyError):
        return f"creds file {str(path)!r} does not hold a JWT and a valid seed"
    if seed_key != subject or jwt_subject != subject:
        return f"creds file {str(path)!r} is not for user {user!r} ({subject})"
    return ""


def _account_section(
    ws: Workspace, operator: str, name: str, op: OperatorClaims | None, now: int
) -> Section:
    section = Section(f"Account {name!r}")
    acct = _decoded(
        lambda: ws.store.read_account(operator, name),
        "the account",
        section,
        ws.paths.account_jwt(operator, name),
        AccountClaims,
    )
    if acct is None:
        return section
    section.issues += _validate(acct, now)
    if op is not None:
        if op.system_account == acct.subject and acct.limits.is_js_enabled():
            section.issues.append(
                ValidationIssue("JetStream should not be enabled for system account", True)
            )
        if not op.did_sign(acct):
            section.issues.append(
                ValidationIssue("Account is not issued by operator or operator signing keys", True)
            )
    for user in ws.store.list_users(operator, name):
        what = f"user {user!r}"
        uc = _decoded(
            partial(ws.store.read_user, operator, name, user),
            what,
            section,
            ws.paths.user_jwt(operator, name, user),
            UserClaims,
        )
        if uc is None:
            continue
        creds_problem = _creds_issue(ws, operator, name, user, uc.subject)
        if creds_problem:
            section.issues.append(ValidationIssue(f"{what}: {creds_problem}", True))
        section.issues += _validate(uc, now, f"{what}: ")
        if not acct.did_sign(uc):
            section.issues.append(
                ValidationIssue(f"{what} is not issued by account or account signing keys", True)
            )
        elif not may_sign_user(op, acct, uc.issuer):
            section.issues.append(
                ValidationIssue(
                    f"{what} is issued by account key but operator is in strict mode", True
                )
            )
        else:
            scope = acct.signing_keys.get_scope(uc.issuer)
            problem = scope.scoped_signer_error(uc) if scope is not None else None
            if problem:
                section.issues.append(ValidationIssue(f"{what}: {problem}", True))
        if acct.is_claim_revoked(uc):
            section.issues.append(ValidationIssue(f"{what} is revoked by its account", False))
    return section


def validate_file(ws: Workspace, path: Path) -> list[Section]:
    """Sections per subject for newline-separated JWTs ('name|' prefixes, as pack writes, cut)."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ActionError(f"cannot read {str(path)!r}: {exc}") from None
    now = ws.now()
    sections: dict[str, Section] = {}
    found = False
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        found = True
        token = line.split("|", 1)[1] if "|" in line else line
        try:
            claims = decode(parse_decorated_jwt(token).strip())
        except JWTError as exc:
            raise ActionError(f"{str(path)!r} line {number} is not a valid JWT: {exc}") from None
        section = sections.setdefault(claims.subject, Section(claims.subject))
        section.issues += _validate(claims, now)
    if not found:
        raise ActionError(f"{str(path)!r} holds no JWTs")
    return list(sections.values())


# -- expirations ----------------------------------------------------------------------------


def humanize(when: int, now: int) -> str:
    """'in 3 days', '5 hours ago', ... ('Never' for 0)."""
    if not when:
        return "Never"
    delta = when - now
    ago = delta < 0
    seconds = abs(delta)
    steps = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600))
    unit, count = next(
        ((name, (seconds + size // 2) // size) for name, size in steps if seconds >= size),
        ("minute", seconds // 60) if seconds >= 60 else ("second", seconds),
    )
    text = f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{text} ago" if ago else f"in {text}"


def _rfc3339(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _entry(resource: str, subject: str, expiry: int, threshold: int, now: int) -> dict[str, Any]:
    # nsc's field names and rules: expired when now > exp; soon when exp < the threshold
    return {
        "resource": resource,
        "id": subject,
        "when": humanize(expiry, now),
        "expiry": expiry,
        "expiration_date": _rfc3339(expiry) if expiry else "",
        "expires_soon": bool(expiry) and threshold > 0 and threshold > expiry,
        "expired": bool(expiry) and now > expiry,
    }


def expirations(ws: Workspace, threshold: int, *, skip: bool = False) -> dict[str, Any]:
    """nsc's expiration report for the current operator: operator, accounts, users and creds."""
    operator = ws.operator_name()
    now = ws.now()
    rows: list[dict[str, Any]] = []
    op = _must_decode(ws.store.read_operator(operator), f"operator {operator!r}")
    rows.append(_entry(op.name or operator, op.subject, op.expires, threshold, now))
    for account in ws.store.list_accounts(operator):
        acct = _must_decode(ws.store.read_account(operator, account), f"account {account!r}")
        resource = f"{op.name or operator}/{acct.name or account}"
        rows.append(_entry(resource, acct.subject, acct.expires, threshold, now))
        for user in ws.store.list_users(operator, account):
            uc = _must_decode(ws.store.read_user(operator, account, user), f"user {user!r}")
            rows.append(
                _entry(f"{resource}/{uc.name or user}", uc.subject, uc.expires, threshold, now)
            )
            creds = ws.paths.creds_path(operator, account, user)
            if creds.is_file():
                cc = _must_decode(parse_decorated_jwt(creds.read_text("utf-8")), str(creds))
                rows.append(_entry(str(creds), cc.subject, cc.expires, threshold, now))
    if skip:
        rows = [r for r in rows if r["expired"] or r["expires_soon"]]
    return {"expiration_threshold": _rfc3339(threshold) if threshold else "", "report": rows}


def _must_decode(token: str, what: str) -> AnyClaims:
    try:
        return decode(token.strip())
    except JWTError as exc:
        raise ActionError(f"the JWT of {what} does not decode: {exc}") from None
