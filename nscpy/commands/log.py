"""`nscpy log`: who changed what when in the shared store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import emit_json
from nscpy.commands.reporting import json_option

if TYPE_CHECKING:
    pass


@click.command("log")
@click.option("-a", "--account", help="Only this account's JWT (or, with -u, its user's).")
@click.option("-u", "--user", help="Only this user's JWT.")
@click.option(
    "--show", "revision", type=click.IntRange(1), default=None, help="Print the JWT at a revision."
)
@json_option
@pass_app
def log(
    app: AppContext, account: str | None, user: str | None, revision: int | None, as_json: bool
) -> None:
    """Who changed what when in the shared store (every kept revision, oldest first).

    \b
    Examples:
      nscpy --store nats://127.0.0.1:4222?bucket=nsc log -a ORDERS
      nscpy --store nats://127.0.0.1:4222?bucket=nsc log -a ORDERS --show 3
    """
    from nscpy.actions import kvstore

    ws = app.workspace
    if revision is not None:
        kind, name = ("user", user) if user else ("account", account) if account else ("", "")
        if not kind:
            raise click.UsageError("--show needs -a ACCOUNT (and -u USER for a user's JWT)")
        key = kvstore.entity_key(ws, kind, name, account if user else None)
        text = kvstore.revision_text(ws, revision, key)
        if as_json:
            emit_json({"revision": revision, "jwt": text})
        else:
            click.echo(text)
        return
    changes = kvstore.history(ws, account, user)
    if as_json:
        emit_json([c.to_json() for c in changes])
        return
    for change in changes:
        click.echo(change.line())
