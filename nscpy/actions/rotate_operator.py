"""rotate operator-signing-key: replace an operator signing key in phases (nsc #394).

Servers learn the operator's keys only from their configuration (the operator JWT), never
from a push, and nats-server cannot reload trusted operators: each change of the operator
JWT is deployed by restarting the servers. So the phases are ordered for that:

start     the new key joins the operator JWT (the old one stays); every account the old key
          signed, the system account included, is re-signed by the new key in the store.
          Deploy the operator JWT (e.g. `nscpy generate config`) and restart the servers.
push      checks through VARZ that every server replying trusts the new key, then pushes the
          re-signed accounts, the system account last: no server ever sees an account signed
          by a key it does not trust, and push itself (a system user signed by the system
          account's key, not the operator's) keeps working throughout.
finish    re-signs any account the old key signed since, pushes as push does, then drops the
          old key from the operator JWT. Deploy that JWT and restart the servers again.
emergency drops the old key and re-signs at once; its push waits (refusing) until the servers
          run the new operator JWT, and re-running it then completes the rotation.
"""

from __future__ import annotations

from dataclasses import dataclass

from nscpy import keys
from nscpy.actions.connection import Connection, connect_options
from nscpy.actions.entities import load_account, load_operator
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.push import PushSpec, push
from nscpy.actions.rotate import public_key_of
from nscpy.actions.rotation import (
    FINISHING,
    OPERATOR_KIND,
    STARTED,
    Rotating,
    Rotation,
    RotationReport,
    Touched,
    open_or_resume,
    read_record,
    record_path,
    save_record,
    stored_pair,
)
from nscpy.actions.steps import Steps
from nscpy.actions.workspace import Workspace
from nscpy.errors import NscError
from nscpy.jwt import OperatorClaims, encode

KIND = OPERATOR_KIND
RECORD = None
"""The operator's record (record_path's account argument)."""


@dataclass
class OperatorRotateSpec:
    """Which operator signing key to rotate (--key; alone, the only one)."""

    key: str | None = None
    operator: str | None = None
    dry_run: bool = False


def start(ws: Workspace, spec: OperatorRotateSpec) -> RotationReport:
    """Add the new key to the operator JWT and re-sign the accounts the old key signed."""
    operator = ws.operator_name(spec.operator)
    with Steps(ws, operator, spec.dry_run) as steps:
        record = read_record(ws, operator, RECORD, KIND)
        if record is not None and record.phase == FINISHING:
            raise ActionError("the operator rotation is finishing: run its 'emergency' again")
        report = _report("start", operator, spec, record)
        _converge_start(ws, steps, spec, record, report)
        report.state = STARTED
    report.note_dry_run()
    report.notes.append(
        "next: deploy the operator JWT to every server and restart them, then "
        "'nscpy rotate operator-signing-key push'"
    )
    return report


def push_phase(ws: Workspace, spec: OperatorRotateSpec, conn: Connection) -> RotationReport:
    """Check every server trusts the new key, then push the accounts it signed (SYS last)."""
    operator = ws.operator_name(spec.operator)
    record = _require_record(ws, operator, spec)
    report = _report("push", operator, spec, record)
    report.resumed = False
    if not spec.dry_run:
        _push_resigned(ws, operator, record, conn, report)
    return report


def finish(ws: Workspace, spec: OperatorRotateSpec, conn: Connection) -> RotationReport:
    """Re-sign stragglers, push, then drop the old key from the operator JWT."""
    operator = ws.operator_name(spec.operator)
    with Steps(ws, operator, spec.dry_run) as steps:
        record = _require_record(ws, operator, spec)
        report = _report("finish", operator, spec, record)
        new = stored_pair(ws, record.new, "the new operator signing key")
        report.touched += _resign_accounts(ws, steps, record.old, new)
    if spec.dry_run:
        report.note_dry_run()
        return report
    _push_resigned(ws, operator, record, conn, report)
    if report.error:
        return report
    with Steps(ws, operator) as steps:
        _drop_old(ws, steps, record.old, report)
        save_record(steps, record_path(ws, operator, RECORD), None)
    report.state = "finished"
    report.notes.append(
        "next: deploy the operator JWT (without the old key) to every server and restart them"
    )
    return report


def emergency(ws: Workspace, spec: OperatorRotateSpec, conn: Connection) -> RotationReport:
    """Drop the old key and re-sign now; push once the servers trust the new key."""
    operator = ws.operator_name(spec.operator)
    with Steps(ws, operator, spec.dry_run) as steps:
        record = read_record(ws, operator, RECORD, KIND)
        report = _report("emergency", operator, spec, record)
        if record is None or record.phase == STARTED:
            record, new = _converge_start(ws, steps, spec, record, report)
        else:
            _check_same(ws, record, spec)
            new = stored_pair(ws, record.new, "the new operator signing key")
            report.touched += _resign_accounts(ws, steps, record.old, new)
        _drop_old(ws, steps, record.old, report)
        if record.phase != FINISHING:
            record.phase = FINISHING
            save_record(steps, record_path(ws, operator, RECORD), record)
        report.state = FINISHING
    if spec.dry_run:
        report.note_dry_run()
        return report
    _push_resigned(ws, operator, record, conn, report)
    if report.error:
        report.notes.append(
            "deploy the operator JWT to every server, restart them, and run this command again"
        )
        return report
    with Steps(ws, operator) as steps:
        save_record(steps, record_path(ws, operator, RECORD), None)
    report.state = "finished"
    return report


# -- the steps (each checks what is done already, so a re-run completes a killed one) ------


def _converge_start(
    ws: Workspace,
    steps: Steps,
    spec: OperatorRotateSpec,
    record: Rotation | None,
    report: RotationReport,
) -> tuple[Rotation, keys.KeyPair]:
    """New seed, record, operator JWT with both keys, accounts moved to the new key."""
    operator = steps.operator
    op = load_operator(ws, operator)
    rotating = Rotating(
        KIND,
        op.subject,
        record_path(ws, operator, RECORD),
        keys.Prefix.OPERATOR,
        "the new operator signing key",
        old_key=lambda: _old_key(ws, op, spec),
        check_same=lambda found: _check_same(ws, found, spec),
    )
    record, new = open_or_resume(ws, steps, record, rotating, report)
    if record.new not in op.signing_keys:
        op.signing_keys.append(record.new)
        _write_operator(ws, steps, op, f"signing key {record.new} added", report)
    report.touched += _resign_accounts(ws, steps, record.old, new)
    return record, new


def _report(
    phase: str, operator: str, spec: OperatorRotateSpec, record: Rotation | None
) -> RotationReport:
    return RotationReport.opened(
        "rotate operator-signing-key", phase, operator, operator, spec.dry_run, record
    )


def _require_record(ws: Workspace, operator: str, spec: OperatorRotateSpec) -> Rotation:
    record = read_record(ws, operator, RECORD, KIND)
    if record is None:
        raise ActionError(
            f"no operator signing-key rotation of {operator!r} is in progress: "
            "run 'nscpy rotate operator-signing-key start' first"
        )
    _check_same(ws, record, spec)
    return record


def _drop_old(ws: Workspace, steps: Steps, old: str, report: RotationReport) -> None:
    op = load_operator(ws, steps.operator)
    if old in op.signing_keys:
        op.signing_keys.remove(old)
        _write_operator(ws, steps, op, f"signing key {old} removed", report)


def _write_operator(
    ws: Workspace, steps: Steps, op: OperatorClaims, change: str, report: RotationReport
) -> None:
    identity = stored_pair(ws, op.subject, "the operator identity key")
    path = ws.paths.operator_jwt(steps.operator)
    with steps.step() as batch:
        batch.raw.write(path, encode(op, identity, iat=ws.now()))
    report.touched.append(Touched("operator", steps.operator, op.subject, change, str(path)))


def _resign_accounts(ws: Workspace, steps: Steps, old: str, new: keys.KeyPair) -> list[Touched]:
    """One step: every account the old key signed, re-signed by the new one (any mix of the
    two is valid while the operator JWT lists both)."""
    touched: list[Touched] = []
    now = ws.now()
    with steps.step() as batch:
        for account in ws.store.list_accounts(steps.operator):
            acct = load_account(ws, steps.operator, account)
            if acct.issuer != old:
                continue
            path = batch.write_account(account, encode(acct, new, iat=now))
            touched.append(Touched("account", account, acct.subject, "re-signed", str(path)))
    return touched


def _push_resigned(
    ws: Workspace, operator: str, record: Rotation, conn: Connection, report: RotationReport
) -> None:
    """Push every account the new key signed, the system account last, once every server
    that answers VARZ trusts the new key (else report.error, nothing pushed)."""
    from nscpy.resolver.trust import trusted_keys

    conn.operator = operator
    op = load_operator(ws, operator)
    try:
        opts, _ = connect_options(ws, conn, "nscpy_rotate")
        trusted = trusted_keys(opts, conn.timeout, conn.expect)
    except NscError as exc:
        report.error = f"cannot ask the servers which keys they trust: {exc}"
        return
    untrusting = sorted(server for server, found in trusted.items() if record.new not in found)
    if not trusted or untrusting:
        who = ", ".join(untrusting) if untrusting else "no server answered VARZ"
        report.error = f"not every server trusts {record.new} yet ({who}): nothing pushed"
        return
    accounts = {a: load_account(ws, operator, a) for a in ws.store.list_accounts(operator)}
    signed = {a: c.subject for a, c in accounts.items() if c.issuer == record.new}
    # the system account last: until then push's own path is untouched
    order = sorted(signed, key=lambda a: (signed[a] == op.system_account, a))
    lines: list[dict[str, str]] = []
    for account in order:
        try:
            outcome = push(ws, PushSpec(account=account, trusted_key=record.new), conn)
            lines += outcome.to_json()["lines"]
            outcome.check()
        except NscError as exc:
            report.error = str(exc)
            break
        report.touched.append(Touched("account", account, signed[account], "pushed"))
    report.push = {"trusted_by": sorted(trusted), "lines": lines}


def _old_key(ws: Workspace, op: OperatorClaims, spec: OperatorRotateSpec) -> str:
    if spec.key:
        key = public_key_of(ws, spec.key)
        if key == op.subject:
            raise UsageProblem(
                f"{key} is the operator's identity key: use 'nscpy reissue operator' for it"
            )
        if key not in op.signing_keys:
            raise UsageProblem(f"{key} is not a signing key of operator {op.name!r}")
        return key
    if len(op.signing_keys) != 1:
        if not op.signing_keys:
            raise UsageProblem(f"operator {op.name!r} has no signing key to rotate")
        raise UsageProblem(
            f"operator {op.name!r} has {len(op.signing_keys)} signing keys: choose one with "
            f"--key ({', '.join(op.signing_keys)})"
        )
    return op.signing_keys[0]


def _check_same(ws: Workspace, record: Rotation, spec: OperatorRotateSpec) -> None:
    if spec.key and public_key_of(ws, spec.key) not in (record.old, record.new):
        raise ActionError(
            f"a rotation of operator signing key {record.old} (new key {record.new}) is in "
            "progress: finish it first"
        )
