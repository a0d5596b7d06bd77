"""rotate signing-key: replace an account signing key in phases, with no client downtime.

start     a new key with the old one's scope joins the account; every user the old key signed
          is re-signed by the new one (all claims kept) and its creds rewritten.
push      the account, now carrying both keys, goes to the resolver: old and new creds work.
finish    the old key leaves the account (stragglers it signed since start are re-signed first)
          and the account is pushed: old creds are refused from then on.
emergency start and finish in one step: the server drops every connection the old key signed.

Each phase is a sequence of committed steps that keep the store valid after each one (see
nscpy.actions.rotation), and re-running a phase that was interrupted completes it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from nscpy import keys
from nscpy.actions.connection import Connection
from nscpy.actions.edit_common import require_valid, resolve_account
from nscpy.actions.entities import load_account, load_operator
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.push import PushSpec, push
from nscpy.actions.rotation import (
    ACCOUNT_KIND,
    FINISHING,
    STARTED,
    Rotating,
    Rotation,
    RotationReport,
    Touched,
    open_or_resume,
    read_record,
    record_path,
    resign_users,
    save_record,
    stored_pair,
)
from nscpy.actions.signers import account_signer, load_key_value
from nscpy.actions.steps import Steps
from nscpy.actions.workspace import Workspace
from nscpy.errors import NscError
from nscpy.jwt import (
    AccountClaims,
    ActivationClaims,
    Import,
    JWTError,
    decode_activation,
    encode,
)

KIND = ACCOUNT_KIND


@dataclass
class RotateSpec:
    """Which account signing key to rotate (--key or --role; alone, the only one)."""

    account: str | None = None
    operator: str | None = None
    key: str | None = None
    role: str | None = None
    dry_run: bool = False


def start(ws: Workspace, spec: RotateSpec) -> RotationReport:
    """Add the new key beside the old one and re-sign what the old key signed."""
    ref = resolve_account(ws, spec.account, spec.operator)
    with Steps(ws, ref.operator, spec.dry_run) as steps:
        record = read_record(ws, ref.operator, ref.account, KIND)
        if record is not None and record.phase == FINISHING:
            raise ActionError(
                f"the rotation of {record.old} is finishing: run "
                f"'nscpy rotate signing-key finish -a {ref.account}'"
            )
        report = _report("start", ref.operator, ref.account, spec, record)
        _converge_start(ws, steps, ref.account, spec, record, report)
        report.state = STARTED
    report.note_dry_run()
    report.notes.append(
        f"next: 'nscpy rotate signing-key push -a {ref.account}' (old and new creds both work)"
    )
    return report


def push_phase(ws: Workspace, spec: RotateSpec, conn: Connection) -> RotationReport:
    """Push the account carrying both keys (the store is not changed)."""
    ref = resolve_account(ws, spec.account, spec.operator)
    record = _require_record(ws, ref.operator, ref.account, spec)
    report = _report("push", ref.operator, ref.account, spec, record)
    report.resumed = False
    if not spec.dry_run:
        _push(ws, ref.operator, ref.account, conn, report)
    if record.phase == STARTED:
        report.notes.append(
            f"next, once every client uses its new creds: "
            f"'nscpy rotate signing-key finish -a {ref.account}'"
        )
    return report


def finish(ws: Workspace, spec: RotateSpec, conn: Connection) -> RotationReport:
    """Remove the old key (re-signing any straggler it signed) and push the account."""
    ref = resolve_account(ws, spec.account, spec.operator)
    with Steps(ws, ref.operator, spec.dry_run) as steps:
        record = _require_record(ws, ref.operator, ref.account, spec)
        report = _report("finish", ref.operator, ref.account, spec, record)
        report.resumed = record.phase == FINISHING
        new = stored_pair(ws, record.new, "the new signing key")
        _converge_finish(ws, steps, ref.account, record, new, report)
    return _push_and_close(ws, ref.operator, ref.account, spec, conn, report)


def emergency(ws: Workspace, spec: RotateSpec, conn: Connection) -> RotationReport:
    """Start and finish at once: the old key goes now, connected users it signed drop."""
    ref = resolve_account(ws, spec.account, spec.operator)
    with Steps(ws, ref.operator, spec.dry_run) as steps:
        record = read_record(ws, ref.operator, ref.account, KIND)
        report = _report("emergency", ref.operator, ref.account, spec, record)
        if record is None or record.phase == STARTED:
            record, new = _converge_start(ws, steps, ref.account, spec, record, report)
        else:
            _check_same(ws, record, load_account(ws, ref.operator, ref.account), spec)
            new = stored_pair(ws, record.new, "the new signing key")
        _converge_finish(ws, steps, ref.account, record, new, report)
    return _push_and_close(ws, ref.operator, ref.account, spec, conn, report)


# -- the steps (each checks what is done already, so a re-run completes a killed one) ------


def _converge_start(
    ws: Workspace,
    steps: Steps,
    account: str,
    spec: RotateSpec,
    record: Rotation | None,
    report: RotationReport,
) -> tuple[Rotation, keys.KeyPair]:
    """New seed, record, account with both keys, users moved to the new key."""
    operator = steps.operator
    acct = load_account(ws, operator, account)
    rotating = Rotating(
        KIND,
        acct.subject,
        record_path(ws, operator, account),
        keys.Prefix.ACCOUNT,
        "the new signing key",
        old_key=lambda: _old_key(ws, acct, spec),
        check_same=lambda found: _check_same(ws, found, acct, spec),
    )
    record, new = open_or_resume(ws, steps, record, rotating, report)
    if record.new not in acct.signing_keys:
        if record.old not in acct.signing_keys:
            raise ActionError(
                f"account {account!r} has neither {record.old} nor {record.new} as a signing "
                f"key: its rotation record {str(record_path(ws, operator, account))!r} is "
                "stale (the account was changed by hand); remove the record and start again"
            )
        scope = acct.signing_keys.get_scope(record.old)
        if scope is None:
            acct.signing_keys.add(record.new)
        else:
            twin = copy.deepcopy(scope)  # the same role, template and description
            twin.key = record.new
            acct.signing_keys.add_scoped(twin)
        _write_account(ws, steps, account, acct, f"signing key {record.new} added", report)
    report.touched += resign_users(ws, steps, account, record.old, new)
    _move_activations(ws, steps, acct.subject, record.old, new, report)
    return record, new


def _converge_finish(
    ws: Workspace,
    steps: Steps,
    account: str,
    record: Rotation,
    new: keys.KeyPair,
    report: RotationReport,
) -> None:
    """Stragglers moved, the account without the old key, the record at FINISHING."""
    operator = steps.operator
    report.touched += resign_users(ws, steps, account, record.old, new)
    acct = load_account(ws, operator, account)
    _move_activations(ws, steps, acct.subject, record.old, new, report)
    if record.old in acct.signing_keys:
        acct.signing_keys.remove(record.old)
        _write_account(ws, steps, account, acct, f"signing key {record.old} removed", report)
    if record.phase != FINISHING:
        record.phase = FINISHING
        save_record(steps, record_path(ws, operator, account), record)
    report.state = FINISHING


def _require_record(ws: Workspace, operator: str, account: str, spec: RotateSpec) -> Rotation:
    record = read_record(ws, operator, account, KIND)
    if record is None:
        raise ActionError(
            f"no signing-key rotation of account {account!r} is in progress: "
            "run 'nscpy rotate signing-key start' first"
        )
    _check_same(ws, record, load_account(ws, operator, account), spec)
    return record


def _report(
    phase: str, operator: str, account: str, spec: RotateSpec, record: Rotation | None
) -> RotationReport:
    return RotationReport.opened(
        "rotate signing-key", phase, operator, account, spec.dry_run, record
    )


def _write_account(
    ws: Workspace,
    steps: Steps,
    account: str,
    acct: AccountClaims,
    change: str,
    report: RotationReport,
) -> None:
    now = ws.now()
    require_valid(acct, now, f"account {account!r}")
    op = load_operator(ws, steps.operator)
    signer = account_signer(ws.keystore, op, issued_by=acct.issuer)
    with steps.step() as batch:
        path = batch.write_account(account, encode(acct, signer, iat=now))
    report.touched.append(Touched("account", account, acct.subject, change, str(path)))


def _push(
    ws: Workspace, operator: str, account: str, conn: Connection, report: RotationReport
) -> None:
    """Push the account, then the accounts importing with activations its new key signed
    (the server checks those against the account's signing keys, so the account goes first)."""
    conn.operator = operator
    new = report.new_key
    subject = load_account(ws, operator, account).subject
    accounts = {name: load_account(ws, operator, name) for name in ws.store.list_accounts(operator)}
    importers = [
        name
        for name, claims in accounts.items()
        if name != account and any(_signed_activation(i, subject, new) for i in claims.imports)
    ]
    lines: list[dict[str, str]] = []
    for name in [account, *importers]:
        try:  # on failure the record stays: running the phase again retries the push
            outcome = push(ws, PushSpec(account=name), conn)
            summary = outcome.to_json()
            lines += summary.pop("lines")
            report.push = {**summary, "lines": lines}
            outcome.check()
        except NscError as exc:
            report.error = str(exc)
            return
        report.touched.append(Touched("account", name, accounts[name].subject, "pushed"))


def _activation(token: str) -> ActivationClaims | None:
    """The activation an import carries, or None (no token, a URL, or not decodable)."""
    if not token or "://" in token:
        return None
    try:
        return decode_activation(token.strip())
    except JWTError:
        return None


def _signed_activation(imp: Import, exporter: str, key: str) -> bool:
    act = _activation(imp.token)
    return act is not None and imp.account == exporter and act.issuer == key


def _move_activations(
    ws: Workspace, steps: Steps, exporter: str, old: str, new: keys.KeyPair, report: RotationReport
) -> None:
    """Re-sign the activation tokens the old key signed that accounts of this store import
    with, one importing account per step (its JWT then carries the new token)."""
    operator = steps.operator
    now = ws.now()
    for name in ws.store.list_accounts(operator):
        importer = load_account(ws, operator, name)
        changed = False
        for imp in importer.imports:
            act = _activation(imp.token)
            if act is not None and imp.account == exporter and act.issuer == old:
                imp.token = encode(act, new, iat=now)
                changed = True
        if changed:
            _write_account(ws, steps, name, importer, "activation tokens re-signed", report)


def _push_and_close(
    ws: Workspace,
    operator: str,
    account: str,
    spec: RotateSpec,
    conn: Connection,
    report: RotationReport,
) -> RotationReport:
    if spec.dry_run:
        report.note_dry_run()
        return report
    _push(ws, operator, account, conn, report)
    if report.error:
        return report
    with Steps(ws, operator) as steps:
        save_record(steps, record_path(ws, operator, account), None)
    report.state = "finished"
    report.notes.append(f"signing key {report.old_key} no longer signs for account {account!r}")
    return report


def _old_key(ws: Workspace, acct: AccountClaims, spec: RotateSpec) -> str:
    """The signing key to rotate out: --key, --role, or the account's only signing key."""
    name = acct.name
    if spec.key and spec.role:
        raise UsageProblem("pass either --key or --role, not both")
    if spec.role:
        found = [k for k, s in acct.signing_keys.items() if s is not None and s.role == spec.role]
        if len(found) != 1:
            what = "no signing key" if not found else f"{len(found)} signing keys"
            raise UsageProblem(f"{what} of account {name!r} have role {spec.role!r}")
        return found[0]
    if spec.key:
        text = spec.key.strip()
        key = (
            text if keys.is_valid_public_key(text) else load_key_value(text, ws.keystore).public_key
        )
        if key == acct.subject:
            raise UsageProblem(
                f"{key} is the identity key of account {name!r}: rotate signing-key "
                "replaces signing keys only"
            )
        if key not in acct.signing_keys:
            raise UsageProblem(f"{key} is not a signing key of account {name!r}")
        return key
    if len(acct.signing_keys) != 1:
        if not acct.signing_keys:
            raise UsageProblem(
                f"account {name!r} has no signing key to rotate "
                "(add one with 'nscpy edit account --sk generate')"
            )
        raise UsageProblem(
            f"account {name!r} has {len(acct.signing_keys)} signing keys: choose one with "
            f"--key ({', '.join(sorted(acct.signing_keys))}) or --role"
        )
    return next(iter(acct.signing_keys))


def _check_same(ws: Workspace, record: Rotation, acct: AccountClaims, spec: RotateSpec) -> None:
    """A phase run with --key/--role must name the rotation in progress."""
    if spec.key:
        text = public_key_of(ws, spec.key)
        if text not in (record.old, record.new):
            raise ActionError(
                f"a rotation of {record.old} (new key {record.new}) is in progress for "
                f"account {acct.name!r}: finish it before rotating {text}"
            )
    if spec.role:
        scope = acct.signing_keys.get_scope(record.new)
        if scope is None or scope.role != spec.role:
            raise ActionError(
                f"the rotation in progress for account {acct.name!r} is of {record.old}, "
                f"not of role {spec.role!r}"
            )


def public_key_of(ws: Workspace, value: str) -> str:
    """--key's public key: given as is, or derived from a seed or seed file."""
    text = value.strip()
    return text if keys.is_valid_public_key(text) else load_key_value(text, ws.keystore).public_key
