"""`nscpy validate`: check the store's JWTs (a table on stdout; --json for scripts)."""

from __future__ import annotations

from pathlib import Path

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import emit_json, table
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
    """Check JWTs and their signer chain; exit 1 if anything blocks.

    \b
    Examples:
      nscpy validate
      nscpy validate -A --json
      nscpy validate -f orders.jwt
    """
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
