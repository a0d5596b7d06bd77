"""`nscpy expirations`: what expires (or has expired) when."""

from __future__ import annotations

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import emit_json, table
from nscpy.commands.params import TIME, resolve_time
from nscpy.commands.reporting import json_option


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
    """Report the operator, accounts, users and creds that are expired or expire soon.

    \b
    Examples:
      nscpy expirations
      nscpy expirations --within 30d --skip --json
    """
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
