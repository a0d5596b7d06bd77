"""Printing an action's Report: nsc's [ OK ]/[WARN]/[ERR ] lines, or JSON for scripts."""

from __future__ import annotations

from typing import Any

import click

from nscpy.commands.output import emit_json

_LABELS = {"ok": "[ OK ]", "warn": "[WARN]", "error": "[ERR ]"}

json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def report_saved(saved: Any, as_json: bool, verb: str, note_label: str = "[ OK ]") -> None:
    """One `[ OK ] <verb> kind 'name' (key)` line per saved entity, its creds and notes; or JSON."""
    items = saved if isinstance(saved, list) else [saved]
    if as_json:
        emit_json([s.to_json() for s in items])
        return
    for s in items:
        click.echo(f"[ OK ] {verb} {s.kind} {s.name!r} ({s.public_key})")
        if s.creds_path:
            click.echo(f"[ OK ] wrote creds {s.creds_path}")
        for note in s.notes:
            click.echo(f"{note_label} {note}")


def report(saved: Any, as_json: bool, verb: str = "edited") -> None:
    """One [ OK ] line per saved entity (plus notes), or the JSON summary."""
    report_saved(saved, as_json, verb)


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
