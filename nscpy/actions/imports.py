"""add / delete import: take a stream or service from another account.

A public import names the exporter (--src-account) and its subject. A private import carries
the exporter's activation token, checked here as the server will check it: signed by the
exporter (or one of its signing keys), for this account, in date, not revoked, and covering
the imported subject.
"""

from __future__ import annotations

from dataclasses import dataclass

from nscpy.actions.activation import exporter_of, find_covering_export, read_activation
from nscpy.actions.edit_common import account_saved, resolve_account, update_account
from nscpy.actions.entities import Saved, load_account
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.exports import check_subject
from nscpy.actions.revocations import account_target
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, ActivationClaims, Import, is_contained_in


@dataclass
class ImportSpec:
    """What `add import` was asked for."""

    src_account: str | None = None
    remote_subject: str | None = None
    local_subject: str | None = None
    name: str | None = None
    service: bool | None = None
    share: bool = False
    allow_trace: bool = False
    token: str | None = None
    """The text of the activation file (plain or decorated JWT)."""


def add_import(
    ws: Workspace,
    account: str | None,
    spec: ImportSpec,
    *,
    operator: str | None = None,
    signer: str | None = None,
) -> Saved:
    """Add a public or (with spec.token) private import to the account."""
    ref = resolve_account(ws, account, operator)
    importer = load_account(ws, ref.operator, ref.account)
    now = ws.now()
    activation: ActivationClaims | None = None
    if spec.token is not None:
        activation = read_activation(spec.token, importer.subject, now)
        exporter = exporter_of(activation)
        if spec.src_account and account_target(ws, ref.operator, spec.src_account) != exporter:
            raise UsageProblem(
                f"the activation was issued by account {exporter}, not by --src-account"
            )
        subject = spec.remote_subject or activation.import_subject
        if not is_contained_in(subject, activation.import_subject):
            raise UsageProblem(
                f"--remote-subject {subject!r} is not covered by the activation's subject "
                f"{activation.import_subject!r}"
            )
        kind = activation.import_type
        if spec.service is not None and spec.service != (kind == "service"):
            raise UsageProblem(f"the activation grants a {kind}, not a {_kind(spec.service)}")
    else:
        if not spec.src_account or not spec.remote_subject:
            raise UsageProblem(
                "a public import needs --src-account and --remote-subject; "
                "a private one needs --token FILE"
            )
        exporter = account_target(ws, ref.operator, spec.src_account)
        if exporter == "*":
            raise UsageProblem("--src-account must name one account")
        subject = spec.remote_subject
        kind = _kind(spec.service) if spec.service is not None else ""
    check_subject("--remote-subject", subject)
    if exporter == importer.subject:
        raise UsageProblem("an account cannot import from itself")
    kind = _check_local_exporter(ws, ref.operator, exporter, subject, kind, activation)
    local = spec.local_subject or ""
    if local:
        check_subject("--local-subject", local)

    def apply(claims: AccountClaims) -> None:
        for other in claims.imports:
            if other.account == exporter and other.subject == subject and other.type == kind:
                raise UsageProblem(
                    f"account {ref.account!r} already imports {kind} {subject!r} from {exporter}"
                )
        claims.imports.append(
            Import(
                name=spec.name or subject,
                subject=subject,
                account=exporter,
                token=_raw_token(spec.token) if activation is not None else "",
                local_subject=local,
                type=kind,
                share=spec.share,
                allow_trace=spec.allow_trace,
            )
        )

    claims, _ = update_account(ws, ref, apply, signer=signer)
    return account_saved(ws, ref, claims)


def _kind(service: bool) -> str:
    return "service" if service else "stream"


def _raw_token(text: str | None) -> str:
    from nscpy.jwt import parse_decorated_jwt

    return parse_decorated_jwt(text or "").strip()


def _check_local_exporter(
    ws: Workspace,
    operator: str,
    exporter: str,
    subject: str,
    kind: str,
    activation: ActivationClaims | None,
) -> str:
    """When the exporter is in this store, check its export; returns the import kind."""
    name = ws.find_account_by_key(operator, exporter)
    if name is None:
        if not kind:
            return "stream"
        return kind
    acct = load_account(ws, operator, name)
    export = find_covering_export(acct, subject, None if not kind else kind == "service")
    if activation is None and export.token_req:
        raise UsageProblem(
            f"export {export.subject!r} of account {name!r} is private: pass --token FILE "
            f"(make one with 'nscpy generate activation -a {name} -s {subject} -t ACCOUNT')"
        )
    if activation is not None:
        if not acct.did_sign(activation):
            raise UsageProblem(
                f"the activation is signed by {activation.issuer}, which is not a key of "
                f"account {name!r}"
            )
        if export.is_claim_revoked(activation):
            raise UsageProblem(f"account {name!r} has revoked this activation")
    return export.type


def delete_import(
    ws: Workspace,
    account: str | None,
    subject: str,
    *,
    src_account: str | None = None,
    operator: str | None = None,
    signer: str | None = None,
) -> Saved:
    """Remove the import whose subject (or local subject) is `subject`."""
    ref = resolve_account(ws, account, operator)
    source = account_target(ws, ref.operator, src_account) if src_account else None

    def apply(claims: AccountClaims) -> None:
        found = [
            i
            for i in claims.imports
            if subject in (i.subject, i.local_subject) and source in (None, i.account)
        ]
        if not found:
            raise ActionError(f"account {ref.account!r} has no import with subject {subject!r}")
        if len(found) > 1:
            raise UsageProblem(f"several imports of {subject!r}: pass --src-account to choose one")
        claims.imports.remove(found[0])

    claims, _ = update_account(ws, ref, apply, signer=signer)
    return account_saved(ws, ref, claims)
