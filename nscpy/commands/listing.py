"""`nscpy list operators|accounts|users|keys`: on stdout (nsc prints these to stderr)."""

from __future__ import annotations

from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import emit_json, table


def _entries(names: list[str], read: Any) -> list[dict[str, str]]:
    from nscpy.jwt import peek

    out = []
    for name in names:
        try:
            public_key = peek(read(name)).subject
        except (ValueError, OSError):
            public_key = "(unreadable JWT)"
        out.append({"name": name, "public_key": public_key})
    return out


def _print(entries: list[dict[str, str]], as_json: bool, what: str) -> None:
    if as_json:
        emit_json(entries)
    elif entries:
        click.echo(table([(e["name"], e["public_key"]) for e in entries], [what, "Public Key"]))
    else:
        click.echo(f"no {what.lower()}s")


_json = click.option("-J", "--json", "as_json", is_flag=True, help="Print a JSON array.")


@click.command("operators")
@_json
@pass_app
def list_operators(app: AppContext, /, as_json: bool) -> None:
    """Operators in the data store."""
    ws = app.workspace
    names = ws.store.list_operators()
    _print(_entries(names, ws.store.read_operator), as_json, "Operator")


@click.command("accounts")
@click.option("-o", "--operator", help="Operator (default: current).")
@_json
@pass_app
def list_accounts(app: AppContext, /, operator: str | None, as_json: bool) -> None:
    """Accounts of the current operator."""
    ws = app.workspace
    op = ws.operator_name(operator)
    names = ws.store.list_accounts(op)
    _print(_entries(names, lambda n: ws.store.read_account(op, n)), as_json, "Account")


@click.command("users")
@click.option("-a", "--account", help="Account (default: current).")
@_json
@pass_app
def list_users(app: AppContext, /, account: str | None, as_json: bool) -> None:
    """Users of the current (or -a) account."""
    ws = app.workspace
    op = ws.operator_name()
    acct = ws.account_name(op, account)
    names = ws.store.list_users(op, acct)
    _print(_entries(names, lambda n: ws.store.read_user(op, acct, n)), as_json, "User")


@click.command("keys")
@click.option("-A", "--all", "show_all", is_flag=True, help="Every key in the keystore.")
@_json
@pass_app
def list_keys(app: AppContext, /, show_all: bool, as_json: bool) -> None:
    """Keys the store references (or -A every stored key), and whether each seed is stored."""
    from nscpy.actions.listing import referenced_keys

    ws = app.workspace
    rows = referenced_keys(ws, include_unreferenced=show_all)
    if as_json:
        emit_json(rows)
        return
    click.echo(
        table(
            [(r["entity"], r["name"], r["public_key"], "yes" if r["stored"] else "") for r in rows],
            ["Entity", "Name", "Public Key", "Seed Stored"],
        )
    )
