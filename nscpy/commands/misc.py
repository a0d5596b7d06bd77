"""`nscpy generate creds`, `env`, `select`, `init`."""

from __future__ import annotations

from pathlib import Path

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import emit_json, table
from nscpy.commands.reporting import report_saved


@click.command("creds")
@click.option("-a", "--account", help="Account (default: current).")
@click.option("-n", "--name", "user", required=True, help="User name.")
@click.option("-o", "--output-file", help="Write here (mode 0600); '--' or none: stdout.")
@pass_app
def generate_creds(
    app: AppContext, /, account: str | None, user: str, output_file: str | None
) -> None:
    """Print (or write) a user's creds file: its JWT and seed. This prints a secret."""
    from nscpy.actions.users import creds_text

    text = creds_text(app.workspace, account, user)
    if output_file and output_file != "--":
        from nscpy.store.atomic import write_output

        write_output(Path(output_file), text)
        click.echo(f"[ OK ] wrote creds {output_file}", err=True)
    else:
        click.echo(text, nl=False)


@click.command("env")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
def env(app: AppContext, /, as_json: bool) -> None:
    """Show the directories and the current operator and account (on stdout)."""
    ws = app.workspace
    data = {
        "config_dir": str(ws.paths.config_dir),
        "store_root": str(ws.paths.data_dir),
        "keystore": str(ws.paths.keystore_dir),
        "keyring": type(ws.keystore.backend).__name__ != "FileSeedBackend",
        "operator": ws.context.operator,
        "account": ws.context.account,
        "NSC_CWD_ONLY": ws.paths.cwd_only,
        "NSC_NO_GIT_IGNORE": not ws.paths.git_ignore,
    }
    if as_json:
        emit_json(data)
    else:
        click.echo(table([(k, str(v)) for k, v in data.items()], ["Setting", "Value"]))


@click.group("select")
def select() -> None:
    """Set the current operator or account (kept in nsc.json)."""


@select.command("operator")
@click.argument("name")
@pass_app
def select_operator(app: AppContext, /, name: str) -> None:
    """Make NAME the current operator."""
    ws = app.workspace
    ws.select(operator=ws.operator_name(name))
    click.echo(f"[ OK ] current operator is {name!r}")


@select.command("account")
@click.argument("name")
@pass_app
def select_account(app: AppContext, /, name: str) -> None:
    """Make NAME the current account."""
    ws = app.workspace
    op = ws.operator_name()
    account = ws.account_name(op, name)
    ws.select(operator=op, account=account)
    click.echo(f"[ OK ] current account is {account!r}")


@click.command("init")
@click.option("-n", "--name", default="nscpy", show_default=True, help="Operator name.")
@click.option("--json", "as_json", is_flag=True, help="Print what was created as JSON.")
@pass_app
def init(app: AppContext, /, name: str, as_json: bool) -> None:
    """Create an operator with a SYS account and user, plus an account and user named NAME."""
    from nscpy.actions.init import init_store

    report_saved(init_store(app.workspace, name), as_json, "added")
