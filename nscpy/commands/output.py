"""Rendering for people (aligned tables) and for scripts (JSON on stdout)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


def emit_json(data: Any) -> None:
    """Write data as indented JSON to stdout."""
    import click  # here, so that table() stays importable without click (start-up fast path)

    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def table(rows: Sequence[Sequence[str]], headers: Sequence[str] | None = None) -> str:
    """A plain aligned text table."""
    all_rows = [list(map(str, r)) for r in ([headers] if headers else []) + list(rows)]
    if not all_rows:
        return ""
    widths = [max(len(r[i]) for r in all_rows if i < len(r)) for i in range(len(all_rows[0]))]
    lines = []
    for n, row in enumerate(all_rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if headers and n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
