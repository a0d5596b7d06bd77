"""`nscpy list operators|accounts|users|keys`: on stdout (nsc prints these to stderr)."""

from __future__ import annotations

from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import boxed, emit_json, long_ids_option, table


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


def _json(f: Any) -> Any:
    f = long_ids_option(f)
    return click.option("-J", "--json", "as_json", is_flag=True, help="Print a JSON array.")(f)


@click.command("operators")
@_json
@pass_app
def list_operators(app: AppContext, /, as_json: bool) -> None:
    """Operators in the data store.

    \b
    Examples:
      nscpy list operators
      nscpy list operators -J
    """
    ws = app.workspace
    names = ws.store.list_operators()
    _print(_entries(names, ws.store.read_operator), as_json, "Operator")


@click.command("accounts")
@click.option("-o", "--operator", help="Operator (default: current).")
@_json
@pass_app
def list_accounts(app: AppContext, /, operator: str | None, as_json: bool) -> None:
    """Accounts of the current operator.

    \b
    Examples:
      nscpy list accounts
      nscpy list accounts --json
    """
    ws = app.workspace
    op = ws.operator_name(operator)
    names = ws.store.list_accounts(op)
    _print(_entries(names, lambda n: ws.store.read_account(op, n)), as_json, "Account")


@click.command("users")
@click.option("-a", "--account", help="Account (default: current).")
@_json
@pass_app
def list_users(app: AppContext, /, account: str | None, as_json: bool) -> None:
    """Users of the current (or -a) account.

    \b
    Examples:
      nscpy list users -a ORDERS
      nscpy list users --json
    """
    ws = app.workspace
    op = ws.operator_name()
    acct = ws.account_name(op, account)
    names = ws.store.list_users(op, acct)
    _print(_entries(names, lambda n: ws.store.read_user(op, acct, n)), as_json, "User")


@click.command("keys")
@click.option(
    "-o", "--operator", "kinds", flag_value="operator", multiple=True, help="Operator keys."
)
@click.option(
    "-a", "--accounts", "kinds", flag_value="account", multiple=True, help="Account keys."
)
@click.option("-u", "--users", "kinds", flag_value="user", multiple=True, help="User keys.")
@click.option("-A", "--all", "all_kinds", is_flag=True, help="Operator, account and user keys.")
@click.option("--account", help="Only this account's keys (and its users').")
@click.option("--user", help="Only this user's key (of the current or --account account).")
@click.option("-f", "--filter", "contains", default="", help="Keys containing this text.")
@click.option("--not-referenced", is_flag=True, help="Stored keys no operator references.")
@click.option("-S", "--show-seeds", is_flag=True, help="Print the seeds (secrets!) too.")
@_json
@pass_app
def list_keys(
    app: AppContext,
    /,
    kinds: tuple[str, ...],
    all_kinds: bool,
    account: str | None,
    user: str | None,
    contains: str,
    not_referenced: bool,
    show_seeds: bool,
    as_json: bool,
) -> None:
    """The current operator's keys and whether each seed is stored (nsc's `list keys`).

    \b
    Examples:
      nscpy list keys                       # operator, accounts, users
      nscpy list keys --account A --users   # account A's users
      nscpy list keys -A --filter VSVMGA    # keys containing VSVMGA
      nscpy list keys --not-referenced      # stored keys no operator references
    """
    from nscpy.actions.listing import select_keys

    if show_seeds and not_referenced:
        raise click.UsageError("specify one of --show-seeds or --not-referenced")
    ws = app.workspace
    wanted = frozenset(kinds) if kinds and not all_kinds else frozenset(_KINDS)
    rows = select_keys(
        ws,
        kinds=wanted,
        account=account,
        user=user,
        contains=contains,
        not_referenced=not_referenced,
    )
    if show_seeds:
        rows = [r | {"seed": ws.keystore.get(r["public_key"]) or ""} for r in rows]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no keys matched query")
        return
    if show_seeds:
        seeds = [(_entity(r), r["seed"] or f"{r['public_key']} [!]", _signing(r)) for r in rows]
        click.echo(boxed("Seeds Keys", seeds, ["Entity", "Private Key", "Signing Key"]))
        click.echo("[ ! ] seed is not stored")
        return
    listed = [(_entity(r), r["public_key"], _signing(r), "*" if r["stored"] else "") for r in rows]
    click.echo(boxed("Keys", listed, ["Entity", "Key", "Signing Key", "Stored"]))
    if not_referenced:
        click.echo("[?] unreferenced key - may belong to a different operator context")


_KINDS = ("operator", "account", "user")


def _entity(row: dict[str, Any]) -> str:
    """nsc indents accounts by one space and users by two under their operator."""
    if row["entity"].startswith("unreferenced"):
        return "?"
    entity: str = row["entity"]
    indent = {"account": " ", "user": "  "}.get(entity.split(" ", 1)[0], "")
    return indent + str(row["name"])


def _signing(row: dict[str, Any]) -> str:
    return "*" if "signing key" in row["entity"] else ""
