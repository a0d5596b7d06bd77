"""`nscpy rotate signing-key|operator-signing-key start|push|finish|emergency`."""

from __future__ import annotations

from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.push import connection, resolver_options
from nscpy.commands.reporting import json_option

PHASES = ("start", "push", "finish", "emergency")


def _print(report: Any, as_json: bool) -> None:
    if as_json:
        from nscpy.commands.output import emit_json

        emit_json(report.to_json())
        return
    click.echo(
        f"[ OK ] {report.command} {report.phase}: {report.subject_name} "
        f"{report.old_key} -> {report.new_key or '(new key)'} ({report.state})"
    )
    for t in report.touched:
        click.echo(f"[ OK ] {t.kind} {t.name!r} ({t.public_key}): {t.change}")
    for line in (report.push or {}).get("lines", []):
        label = "[ OK ]" if line["level"] == "ok" else "[ERR ]"
        click.echo(f"{label} {line['text']}", err=line["level"] == "error")
    for note in report.notes:
        click.echo(f"[ OK ] {note}")


def _finish(report: Any, as_json: bool) -> None:
    """Print the report, then fail (exit 1) if the phase's push failed."""
    _print(report, as_json)
    if report.error:
        from nscpy.actions.errors import ActionError

        raise ActionError(f"{report.error} (run the same command again to retry)")


@click.command("signing-key")
@click.argument("phase", type=click.Choice(PHASES))
@click.option("-a", "--account", help="Account whose signing key rotates (default: current).")
@click.option("--key", help="The signing key to replace (public key, seed or seed file).")
@click.option("--role", help="The scoped signing key to replace, by its role.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write and push nothing.")
@resolver_options
@json_option
@pass_app
def rotate_signing_key(
    app: AppContext,
    /,
    phase: str,
    account: str | None,
    key: str | None,
    role: str | None,
    dry_run: bool,
    as_json: bool,
    **conn: Any,
) -> None:
    """Rotate an account signing key: start, push, finish (or emergency: all at once)."""
    from nscpy.actions import rotate

    spec = rotate.RotateSpec(account=account, key=key, role=role, dry_run=dry_run)
    ws = app.workspace
    if phase == "start":
        report = rotate.start(ws, spec)
    elif phase == "push":
        report = rotate.push_phase(ws, spec, connection(**conn))
    elif phase == "finish":
        report = rotate.finish(ws, spec, connection(**conn))
    else:
        report = rotate.emergency(ws, spec, connection(**conn))
    _finish(report, as_json)


@click.command("operator-signing-key")
@click.argument("phase", type=click.Choice(PHASES))
@click.option("--key", help="The operator signing key to replace (public key, seed or file).")
@click.option("--dry-run", is_flag=True, help="Report what would change; write and push nothing.")
@resolver_options
@json_option
@pass_app
def rotate_operator_signing_key(
    app: AppContext,
    /,
    phase: str,
    key: str | None,
    dry_run: bool,
    as_json: bool,
    **conn: Any,
) -> None:
    """Rotate an operator signing key: start, push, finish (or emergency: all at once)."""
    from nscpy.actions import rotate_operator

    spec = rotate_operator.OperatorRotateSpec(key=key, dry_run=dry_run)
    ws = app.workspace
    if phase == "start":
        report = rotate_operator.start(ws, spec)
    elif phase == "push":
        report = rotate_operator.push_phase(ws, spec, connection(**conn))
    elif phase == "finish":
        report = rotate_operator.finish(ws, spec, connection(**conn))
    else:
        report = rotate_operator.emergency(ws, spec, connection(**conn))
    _finish(report, as_json)
