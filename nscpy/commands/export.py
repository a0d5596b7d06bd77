"""`nscpy export keys|spec`: seeds (and JWTs) to a directory, or the store as a spec."""

from __future__ import annotations

from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import dir_option, spec_from
from nscpy.commands.reporting import json_option, render_report


@click.command("keys")
@dir_option
@click.option("-o", "--operator", is_flag=True, help="Operator keys.")
@click.option("-a", "--accounts", is_flag=True, help="Account keys.")
@click.option("-u", "--users", is_flag=True, help="User keys.")
@click.option("-A", "--all", "all", is_flag=True, help="Operator, account and user keys.")
@click.option("--account", help="Limit to this account (name or public key).")
@click.option("--user", help="Only this user's key.")
@click.option("-f", "--filter", "filter", default="", help="Keys containing this text.")
@click.option("--not-referenced", is_flag=True, help="Keystore keys the store does not use.")
@click.option("--include-jwts", is_flag=True, help="Also write <PUBKEY>.jwt files.")
@click.option("-F", "--force", is_flag=True, help="Overwrite existing files in DIR.")
@click.option("-R", "--remove", is_flag=True, help="Remove the seeds from the keystore after.")
@json_option
@pass_app
def export_keys(
    app: AppContext,
    /,
    as_json: bool,
    **flags: Any,
) -> None:
    """Copy seeds (as <PUBKEY>.nk, mode 0600) to DIR; no flags: current operator/account/users.

    \b
    Examples:
      nscpy export keys -d backup
      nscpy export keys -d backup --all --include-jwts
    """
    from nscpy.actions.keyfiles import ExportSpec
    from nscpy.actions.keyfiles import export_keys as run

    render_report(run(app.workspace, spec_from(ExportSpec, flags)), as_json)


@click.command("spec")
@click.option("-o", "--output-file", "output", help="Write here instead of stdout ('-' = stdout).")
@click.option("--operator", help="Operator to export (default: the current one).")
@pass_app
def export_spec(app: AppContext, /, output: str | None, operator: str | None) -> None:
    """Write the store as a spec that 'nscpy apply' converges a store to.

    \b
    Examples:
      nscpy export spec -o store.toml
      nscpy export spec --operator ACME
    """
    from nscpy.actions.export_spec import export_spec as run
    from nscpy.actions.export_spec import spec_to_toml
    from nscpy.commands.output import output_path

    text = spec_to_toml(run(app.workspace, operator))
    path = output_path(output)
    if path is None:
        click.echo(text, nl=False)
        return
    from nscpy.store.atomic import atomic_write

    atomic_write(path, text, mode=0o644)
