"""A step-by-step report (nsc's [ OK ] / [WARN] / [ERR ] lines) that commands render."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OK = "ok"
WARN = "warn"
ERROR = "error"


@dataclass
class Report:
    """What a multi-step action did, line by line, plus data for --json."""

    lines: list[tuple[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def ok(self, text: str) -> None:
        """Record a step that succeeded."""
        self.lines.append((OK, text))

    def warn(self, text: str) -> None:
        """Record something the user should know that did not stop the action."""
        self.lines.append((WARN, text))

    def error(self, text: str) -> None:
        """Record a step that failed (the command then exits 1)."""
        self.lines.append((ERROR, text))

    @property
    def has_errors(self) -> bool:
        """True when any step failed."""
        return any(level == ERROR for level, _ in self.lines)

    def to_json(self) -> dict[str, Any]:
        """The data plus the step lines, JSON-ready."""
        return {
            **self.data,
            "steps": [{"level": level, "text": text} for level, text in self.lines],
        }
