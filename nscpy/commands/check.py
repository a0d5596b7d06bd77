"""`nscpy validate` and `nscpy expirations` (tables on stdout; --json for scripts)."""

from __future__ import annotations

from pathlib import Path

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import emit_json, table
from nscpy.commands.params import TIME, resolve_time
from nscpy.commands.reporting import json_option


@click.command("validate")
@click.option("-a", "--account", help="Validate this account (default: the current one).")
@click.option("-A", "--all-accounts", is_flag=True, help="Validate every account.")
@click.option(
    "-f", "--file", "jwt_file", type=click.Path(path_type=Path), help="Newline-separated JWTs."
)
@json_option
@pass_app
def validate(
    app: AppContext,
    /,
    account: str | None,
    all_accounts: bool,
    jwt_file: Path | None,
    as_json: bool,
) -> None:
    """Check JWTs and their signer chain; exit 1 if anything blocks."""
    from nscpy.actions.checks import validate_file, validate_store

    if jwt_file is not None and (account or all_accounts):
        raise click.UsageError("pass only one of -a, -A or -f")
    if account and all_accounts:
        raise click.UsageError("pass only one of -a or -A")
    ws = app.workspace
    if jwt_file is not None:
        sections = validate_file(ws, jwt_file)
    else:
        sections = validate_store(ws, account=account, all_accounts=all_accounts)
    failed = any(s.failed for s in sections)
    if as_json:
        emit_json({"ok": not failed, "sections": [s.to_json() for s in sections]})
    else:
        for section in sections:
            click.echo(section.title)
            if not section.issues:
                click.echo("  No issues found")
                continue
            rows = [
                (str(n), "!" if i.blocking or i.time_check else "", i.description)
                for n, i in enumerate(section.issues, 1)
            ]
            click.echo(table(rows, ["#", " ", "Description"]))
    if failed:
        from nscpy.actions.errors import ActionError

        raise ActionError("validation found errors")


@click.command("expirations")
@click.option(
    "-e",
    "--within",
    type=TIME,
    default="1M",
    show_default=True,
    help="Flag what expires before this (YYYY-MM-DD or relative: 1w, 3M, 1y).",
)
@click.option("--skip", is_flag=True, help="Show only what is expired or expires soon.")
@json_option
@pass_app
def expirations(app: AppContext, /, within: str, skip: bool, as_json: bool) -> None:
    """Report the operator, accounts, users and creds that are expired or expire soon."""
    from nscpy.actions.checks import expirations as run

    ws = app.workspace
    data = run(ws, resolve_time(within, ws.now()), skip=skip)
    if as_json:
        emit_json(data)
        return
    rows = []
    for r in data["report"]:
        state = "Yes" if r["expired"] else "Soon" if r["expires_soon"] else "No"
        when = f"{r['expiration_date']} - {r['when']}" if r["expiry"] else r["when"]
        rows.append((state, r["resource"], when))
    click.echo(f"Expiration report (threshold {data['expiration_threshold'] or 'none'})")
    click.echo(table(rows, ["Expired", "Resource", "Expiration"]) if rows else "nothing to report")
    due = [
        r for r in data["report"] if r["id"].startswith("U") and r["expired"] | r["expires_soon"]
    ]
    if due:
        click.echo(f"renew these users with 'nscpy renew users --within {within}'")
