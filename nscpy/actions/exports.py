"""add / edit / delete export: streams and services an account offers to other accounts."""

from __future__ import annotations

from dataclasses import dataclass

from nscpy.actions.edit_common import account_saved, resolve_account, update_account
from nscpy.actions.entities import Saved
from nscpy.actions.errors import UsageProblem
from nscpy.actions.revocations import find_export
from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, Export, ServiceLatency, ValidationResults, validate_subject
from nscpy.jwt.exports import RESPONSE_TYPES
from nscpy.jwt.subject import subject_problem


def check_subject(label: str, subject: str) -> None:
    """A subject the jwt library accepts (wildcards allowed)."""
    results = ValidationResults()
    validate_subject(subject, results)
    if not subject or results.errors():
        reason = results.errors()[0] if results.errors() else "it is empty"
        raise UsageProblem(f"{label} {subject!r} is not a valid subject: {reason}")
    problem = subject_problem(subject)
    if problem is not None:
        raise UsageProblem(f"{label} {subject!r}: nats-server would never match it: {problem}")


@dataclass
class ExportChange:
    """Export settings from the flags; None means "not given" (keep, or the default on add)."""

    name: str | None = None
    service: bool | None = None
    private: bool | None = None
    response_type: str | None = None
    response_threshold_ns: int | None = None
    latency_subject: str | None = None
    sampling: int | None = None
    """0 = "headers", else 1..100."""
    rm_latency: bool = False
    allow_trace: bool | None = None
    token_position: int | None = None
    advertise: bool | None = None
    description: str | None = None
    info_url: str | None = None

    def apply(self, export: Export) -> None:
        """Change export in place, refusing service-only settings on streams."""
        if self.name is not None:
            export.name = self.name
        if self.service is not None:
            export.type = "service" if self.service else "stream"
        if self.private is not None:
            export.token_req = self.private
        if self.response_type is not None:
            if self.response_type not in RESPONSE_TYPES:
                raise UsageProblem(
                    f"--response-type {self.response_type!r}: use {', '.join(RESPONSE_TYPES)}"
                )
            export.response_type = "" if self.response_type == "Singleton" else self.response_type
        if self.response_threshold_ns is not None:
            if self.response_threshold_ns < 0:
                raise UsageProblem("--response-threshold must not be negative")
            export.response_threshold = self.response_threshold_ns
        self._apply_latency(export)
        if self.allow_trace is not None:
            export.allow_trace = self.allow_trace
        if self.token_position is not None:
            export.account_token_position = self.token_position
        if self.advertise is not None:
            export.advertise = self.advertise
        if self.description is not None:
            export.description = self.description
        if self.info_url is not None:
            export.info_url = self.info_url
        self._check_kind(export)

    def _apply_latency(self, export: Export) -> None:
        if self.rm_latency:
            export.latency = None
        if self.latency_subject is not None:
            check_subject("--latency", self.latency_subject)
            export.latency = export.latency or ServiceLatency(sampling=100)
            export.latency.results = self.latency_subject
        if self.sampling is not None:
            if export.latency is None:
                raise UsageProblem("--sampling needs a --latency results subject")
            if not 0 <= self.sampling <= 100:
                raise UsageProblem(f"--sampling must be 1..100 or 'headers', got {self.sampling}")
            export.latency.sampling = self.sampling

    @staticmethod
    def _check_kind(export: Export) -> None:
        if export.is_service():
            return
        for bad, flag in (
            (export.response_type, "--response-type"),
            (export.response_threshold, "--response-threshold"),
            (export.latency, "--latency"),
            (export.allow_trace, "--allow-trace"),
        ):
            if bad:
                raise UsageProblem(f"{flag} applies to services only: add --service")
        if export.account_token_position and export.token_req:
            raise UsageProblem("--account-token-position applies to public exports only")


def add_export(
    ws: Workspace,
    account: str | None,
    subject: str,
    change: ExportChange,
    *,
    operator: str | None = None,
    signer: str | None = None,
) -> Saved:
    """Add a stream (default) or service export; its name defaults to the subject."""
    ref = resolve_account(ws, account, operator)
    check_subject("--subject", subject)

    def apply(claims: AccountClaims) -> None:
        export = Export(subject=subject, type="stream")
        change.apply(export)
        export.name = export.name or subject
        for other in claims.exports:
            if other.subject == subject and other.type == export.type:
                raise UsageProblem(
                    f"account {ref.account!r} already exports {export.type} {subject!r}: "
                    "use 'nscpy edit export'"
                )
        claims.exports.append(export)

    claims, _ = update_account(ws, ref, apply, signer=signer)
    return account_saved(ws, ref, claims)


def edit_export(
    ws: Workspace,
    account: str | None,
    subject: str,
    change: ExportChange,
    *,
    new_subject: str | None = None,
    operator: str | None = None,
    signer: str | None = None,
) -> Saved:
    """Change the export found by its subject."""
    ref = resolve_account(ws, account, operator)
    if new_subject is not None:
        check_subject("--new-subject", new_subject)

    def apply(claims: AccountClaims) -> None:
        export = find_export(claims, subject, None)
        if new_subject is not None:
            if export.name == export.subject:
                export.name = new_subject
            export.subject = new_subject
        change.apply(export)

    claims, _ = update_account(ws, ref, apply, signer=signer)
    return account_saved(ws, ref, claims)


def delete_export(
    ws: Workspace,
    account: str | None,
    subject: str,
    *,
    service: bool | None = None,
    operator: str | None = None,
    signer: str | None = None,
) -> Saved:
    """Remove the export with this subject."""
    ref = resolve_account(ws, account, operator)

    def apply(claims: AccountClaims) -> None:
        claims.exports.remove(find_export(claims, subject, service))

    claims, _ = update_account(ws, ref, apply, signer=signer)
    return account_saved(ws, ref, claims)
