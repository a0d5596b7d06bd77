"""Printing an action's Report: nsc's [ OK ]/[WARN]/[ERR ] lines, or JSON for scripts."""

from __future__ import annotations

from typing import Any

import click

from nscpy.commands.output import emit_json

_LABELS = {"ok": "[ OK ]", "warn": "[WARN]", "error": "[ERR ]"}

json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def render_report(report: Any, as_json: bool) -> None:
    """Print a Report as status lines (errors on stderr), or as JSON; fail if a step failed."""
    if as_json:
        emit_json(report.to_json())
    else:
        for level, text in report.lines:
            click.echo(f"{_LABELS[level]} {text}", err=level == "error")
    if report.has_errors:
        from nscpy.actions.errors import ActionError

        failed = sum(1 for level, _ in report.lines if level == "error")
        raise ActionError(f"{failed} step(s) failed (see above)")
