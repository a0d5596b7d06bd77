"""`nscpy select operator|account`: set the current operator or account."""

from __future__ import annotations

import click

from nscpy.commands.context import AppContext, pass_app


@click.group("select")
def select() -> None:
    """Set the current operator or account (kept in nsc.json).

    \b
    Examples:
      nscpy select operator ACME
      nscpy select account ORDERS
    """


@select.command("operator")
@click.argument("name")
@pass_app
def select_operator(app: AppContext, /, name: str) -> None:
    """Make NAME the current operator.

    \b
    Examples:
      nscpy select operator ACME
    """
    ws = app.workspace
    ws.select(operator=ws.operator_name(name))
    click.echo(f"[ OK ] current operator is {name!r}")


@select.command("account")
@click.argument("name")
@pass_app
def select_account(app: AppContext, /, name: str) -> None:
    """Make NAME the current account.

    \b
    Examples:
      nscpy select account ORDERS
    """
    ws = app.workspace
    op = ws.operator_name()
    account = ws.account_name(op, name)
    ws.select(operator=op, account=account)
    click.echo(f"[ OK ] current account is {account!r}")
