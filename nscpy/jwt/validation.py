"""Validation results: issues are collected (blocking, warning, time check), never raised."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ValidationIssue", "ValidationResults", "go_quote"]


@dataclass(frozen=True)
class ValidationIssue:
    """One problem found by validate(): blocking errors stop use, warnings do not."""

    description: str
    blocking: bool
    time_check: bool = False

    def __str__(self) -> str:
        return self.description


@dataclass
class ValidationResults:
    """The issues found by validate(), as Go's jwt.ValidationResults."""

    issues: list[ValidationIssue] = field(default_factory=list)

    def add(self, issue: ValidationIssue) -> None:
        """Record an issue."""
        self.issues.append(issue)

    def add_error(self, description: str) -> None:
        """Record a blocking issue."""
        self.issues.append(ValidationIssue(description, blocking=True))

    def add_warning(self, description: str) -> None:
        """Record a non-blocking issue."""
        self.issues.append(ValidationIssue(description, blocking=False))

    def add_time_check(self, description: str) -> None:
        """Record an exp/nbf issue: blocking only when the caller asks for time checks."""
        self.issues.append(ValidationIssue(description, blocking=False, time_check=True))

    def is_empty(self) -> bool:
        """True when nothing was found."""
        return not self.issues

    def is_blocking(self, include_time_checks: bool = False) -> bool:
        """True when any issue blocks use (time checks count only if include_time_checks)."""
        return any(i.blocking or (include_time_checks and i.time_check) for i in self.issues)

    def errors(self) -> list[str]:
        """Descriptions of the blocking issues."""
        return [i.description for i in self.issues if i.blocking]

    def warnings(self) -> list[str]:
        """Descriptions of the non-blocking issues (time checks included)."""
        return [i.description for i in self.issues if not i.blocking]


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_GO_ESCAPES["\v"] = "\\v"


def go_quote(text: str) -> str:
    """Quote text as Go's %q does, so issue messages read exactly like the Go library's."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ch in _GO_ESCAPES:
            out.append(_GO_ESCAPES[ch])
        else:
            code = ord(ch)
            if code < 0x20 or code == 0x7F:
                out.append(f"\\x{code:02x}")
            elif code < 0x10000:
                out.append(f"\\u{code:04x}")
            else:
                out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)
