"""`nscpy renew users`: re-issue user JWTs that expire soon with a new expiry."""

from __future__ import annotations

from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import emit_json, table
from nscpy.commands.params import TIME, resolve_time, spec_from
from nscpy.commands.reporting import json_option


@click.command("users")
@click.option("-a", "--account", default=None, help="Only this account (default: every one).")
@click.option(
    "--within",
    type=TIME,
    default="7d",
    show_default=True,
    help="Renew users expiring before this (relative like 7d, or a date); expired ones too.",
)
@click.option(
    "--expiry",
    type=TIME,
    default="30d",
    show_default=True,
    help="The new expiry (relative like 30d, or a date).",
)
@click.option("--dry-run", is_flag=True, help="Report what would be renewed; write nothing.")
@json_option
@pass_app
def renew_users(
    app: AppContext,
    /,
    within: str,
    expiry: str,
    as_json: bool,
    **flags: Any,
) -> None:
    """Re-issue the users that expire within the window (same key, same claims, new expiry).

    \b
    Examples:
      nscpy renew users --within 7d --dry-run
      nscpy renew users -a ORDERS --expiry 90d
    """
    from nscpy.actions.renew import RenewSpec, renew_users

    ws = app.workspace
    now = ws.now()
    spec = spec_from(
        RenewSpec, flags, within=resolve_time(within, now), expiry=resolve_time(expiry, now)
    )
    result = renew_users(ws, spec)
    if as_json:
        emit_json(result.to_json())
        return
    verb = "would renew" if spec.dry_run else "renewed"
    rows = [(r.account, r.name, r.public_key) for r in result.renewed]
    if rows:
        click.echo(table(rows, ["Account", "User", "Public key"]))
    click.echo(f"[ OK ] {verb} {len(rows)} user(s); {result.unchanged} not due left as they were")
