"""`nscpy push`: account JWTs to a nats-server resolver (and diff, prune or remove accounts)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import KEY, spec_from
from nscpy.commands.reporting import json_option
from nscpy.commands.resolver_options import resolver_options

if TYPE_CHECKING:
    from nscpy.actions.connection import Connection

F = TypeVar("F", bound=Callable[..., Any])

_LABELS = {"ok": "[ OK ]", "warn": "[WARN]", "error": "[ERR ]"}


@click.command("push")
@click.option("-a", "--account", help="Account to push (default: current).")
@click.option("-A", "--all", "all_accounts", is_flag=True, help="Push every account.")
@click.option("-F", "--force", is_flag=True, help="Skip the validation pre-checks.")
@click.option("-D", "--diff", is_flag=True, help="List accounts that exist only on the server.")
@click.option("-P", "--prune", is_flag=True, help="Delete accounts that exist only on the server.")
@click.option("-R", "--account-removal", "remove", help="Delete this account from the server.")
@click.option(
    "-K", "--private-key", "signer", type=KEY, help="Operator key to sign a delete request."
)
@resolver_options
@json_option
@pass_app
def push(
    app: AppContext,
    /,
    conn: Connection,
    as_json: bool,
    **flags: Any,
) -> None:
    """Push account JWTs to a nats-server resolver (and diff, prune or remove accounts).

    \b
    Examples:
      nscpy push -A -u nats://127.0.0.1:4222
      nscpy push -a ORDERS
      nscpy push --diff --prune -u nats://127.0.0.1:4222
    """
    from nscpy.actions.push import PushSpec
    from nscpy.actions.push import push as run

    outcome = run(app.workspace, spec_from(PushSpec, flags), conn)
    if as_json:
        from nscpy.commands.output import emit_json

        emit_json(outcome.to_json())
    else:
        for level, text in outcome.lines():
            click.echo(f"{_LABELS[level]} {text}", err=level == "error")
    outcome.check()
