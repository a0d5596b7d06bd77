"""Spec problems: each carries FILE:LINE:COL; all of a spec's problems are raised together."""

from __future__ import annotations

from dataclasses import dataclass

from nscpy.errors import NscValueError
from nscpy.spec.positions import Position

__all__ = ["SpecError", "SpecIssue"]


@dataclass(frozen=True)
class SpecIssue:
    """One problem at one place."""

    position: Position
    message: str

    def __str__(self) -> str:
        return f"{self.position}: {self.message}"

    def to_json(self) -> dict[str, object]:
        """file, line, col and message."""
        p = self.position
        return {"file": p.file, "line": p.line, "col": p.col, "message": self.message}


class SpecError(NscValueError):
    """A spec that cannot be applied; str() lists every issue, one per line, in file order."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = sorted(
            set(issues), key=lambda i: (i.position.file, i.position.line, i.position.col)
        )
        super().__init__("\n".join(str(i) for i in self.issues))
