"""Rendering for people (aligned tables) and for scripts (JSON on stdout)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def output_path(output_file: str | None) -> Path | None:
    """The -o file to write, or None for stdout: -o absent, '--' (nsc's spelling) and '-' (the
    usual one) all mean stdout -- never a file named '-' that would hold a seed unnoticed."""
    if output_file in (None, "", "--", "-"):
        return None
    return Path(output_file)


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


def long_ids_option(f: Any) -> Any:
    """nsc's `-W/--long-ids`: nscpy's tables always show whole keys, so it is accepted as met."""
    import click

    return click.option(
        "-W",
        "--long-ids",
        is_flag=True,
        expose_value=False,
        help="Show whole public keys (nscpy's tables always do).",
    )(f)


def boxed(
    title: str,
    rows: Sequence[Sequence[str] | None],
    headers: Sequence[str] | None = None,
) -> str:
    """A table in nsc's box style: a centred title, optional headers, rounded corners;
    a None row is a separator line. Scripts written against nsc's pages grep these
    labels, so the layout is nsc's."""
    body = [None if r is None else list(map(str, r)) for r in rows]
    head = list(headers) if headers else None
    every = ([head] if head else []) + [r for r in body if r is not None]
    columns = max((len(r) for r in every), default=1)
    widths = [max((len(r[i]) for r in every if i < len(r)), default=0) for i in range(columns)]
    inner = sum(widths) + 3 * (columns - 1) + 2
    if len(title) + 2 > inner:  # a long title widens the last column
        widths[-1] += len(title) + 2 - inner
        inner = len(title) + 2

    def rule(left: str, mid: str, right: str) -> str:
        return left + mid.join("─" * (w + 2) for w in widths) + right

    def line(cells: Sequence[str]) -> str:
        cells = list(cells) + [""] * (columns - len(cells))
        return "│" + "│".join(f" {c.ljust(w)} " for c, w in zip(cells, widths, strict=True)) + "│"

    pad = inner - len(title)
    out = ["╭" + "─" * inner + "╮", "│" + " " * (pad // 2) + title + " " * (pad - pad // 2) + "│"]
    out.append(rule("├", "┬", "┤"))
    if head:
        out += [line(head), rule("├", "┼", "┤")]
    out += [rule("├", "┼", "┤") if r is None else line(r) for r in body]
    out.append(rule("╰", "┴", "╯"))
    return "\n".join(out)
