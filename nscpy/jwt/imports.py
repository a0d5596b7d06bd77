"""Account imports: streams and services taken from other accounts."""

from __future__ import annotations

from dataclasses import dataclass, field

from nscpy.jwt._model import (
    Model,
    dec_bool,
    dec_str,
    wire,
)
from nscpy.jwt.activation import dec_export_type, enc_export_type
from nscpy.jwt.errors import JWTError
from nscpy.jwt.subject import (
    is_contained_in,
    renaming_to_subject,
    validate_renaming_subject,
    validate_subject,
)
from nscpy.jwt.validation import ValidationResults, go_quote

__all__ = ["Import", "validate_imports"]


@dataclass
class Import(Model):
    """One import: the exporter's subject and account, an optional activation token and rename."""

    name: str = field(default="", metadata=wire(dec=dec_str))
    subject: str = field(default="", metadata=wire(dec=dec_str))
    account: str = field(default="", metadata=wire(dec=dec_str))
    token: str = field(default="", metadata=wire(dec=dec_str))
    to: str = field(default="", metadata=wire(dec=dec_str))
    """Deprecated: use local_subject."""
    local_subject: str = field(default="", metadata=wire(dec=dec_str))
    type: str = field(default="", metadata=wire(enc=enc_export_type, dec=dec_export_type))
    share: bool = field(default=False, metadata=wire(dec=dec_bool))
    allow_trace: bool = field(default=False, metadata=wire(dec=dec_bool))

    def is_service(self) -> bool:
        """True for a service import."""
        return self.type == "service"

    def is_stream(self) -> bool:
        """True for a stream import."""
        return self.type == "stream"

    def validate(self, account: str, results: ValidationResults, *, now: int = 0) -> None:
        """Go's Import.Validate; `account` is the importing account's public key."""
        if self.type not in ("stream", "service"):
            results.add_error('invalid import type: "unknown"')
        if self.is_service() and self.allow_trace:
            results.add_error("AllowTrace only valid for stream import")
        if not self.account:
            results.add_error("account to import from is not specified")
        if self.to:
            results.add_warning("the field to has been deprecated (use LocalSubject instead)")
        validate_subject(self.subject, results)
        if self.local_subject:
            validate_renaming_subject(self.local_subject, self.subject, results)
            if self.to:
                results.add_error("Local Subject replaces To")
        if self.share and not self.is_service():
            results.add_error(
                "sharing information (for latency tracking) is only valid for services: "
                + go_quote(self.subject)
            )
        if self.token:
            self._validate_token(account, results, now)

    def _validate_token(self, account: str, results: ValidationResults, now: int) -> None:
        from nscpy.jwt.activation import ActivationClaims
        from nscpy.jwt.decode_typed import decode_kind

        quoted = go_quote(self.subject)
        try:
            activation = decode_kind(self.token, ActivationClaims)
        except JWTError:
            results.add_error(f"import {quoted} contains an invalid activation token")
            return
        if self.account not in (activation.issuer, activation.issuer_account):
            results.add_error(f"activation token doesn't match account for import {quoted}")
        if activation.subject != account:
            results.add_error(
                f"activation token doesn't match account it is being included in, {quoted}"
            )
        if activation.import_type != self.type:
            results.add_error(
                "mismatch between token import type "
                f"{_kind(activation.import_type)} and type of import {_kind(self.type)}"
            )
        activation.validate_with_time_checks(results, now=now, time_checks=False)
        subject = self.to if self.is_service() and self.to else self.subject
        if not is_contained_in(subject, activation.import_subject):
            results.add_error(
                f"activation token import subject {go_quote(activation.import_subject)}"
                f" doesn't match import {quoted}"
            )


def _kind(kind: str) -> str:
    return kind if kind in ("stream", "service") else "unknown"


def validate_imports(
    imports: list[Import], account: str, results: ValidationResults, *, now: int = 0
) -> None:
    """Each import, and no two service imports from one account with overlapping subjects."""
    seen: dict[str, list[str]] = {}
    for item in imports:
        if item.is_service():
            local = item.to or renaming_to_subject(item.local_subject) or item.subject
            others = seen.setdefault(item.account, [])
            for other in others:
                if is_contained_in(local, other) or is_contained_in(other, local):
                    results.add_error(
                        f"overlapping subject namespace for {go_quote(local)} and"
                        f" {go_quote(other)} in same account {go_quote(item.account)}"
                    )
            if local in others:
                results.add_error(
                    f"overlapping subject namespace for {go_quote(local)}"
                    f" in account {go_quote(item.account)}"
                )
            else:
                others.append(local)
        item.validate(account, results, now=now)
