"""`nscpy pull`: store the account JWTs a nats-server resolver (or account server) holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import spec_from
from nscpy.commands.reporting import json_option, render_report
from nscpy.commands.resolver_options import resolver_options

if TYPE_CHECKING:
    from nscpy.actions.connection import Connection


@click.command("pull")
@click.option("-a", "--account", help="Account name or public key to pull (default: current).")
@click.option(
    "-A", "--all", "all_accounts", is_flag=True, help="Pull every account the server has."
)
@click.option(
    "-F", "--overwrite-newer", is_flag=True, help="Replace a local JWT even if it is newer."
)
@resolver_options
@json_option
@pass_app
def pull(
    app: AppContext,
    /,
    conn: Connection,
    as_json: bool,
    **flags: Any,
) -> None:
    """Store the account JWTs a nats-server resolver holds (-A: all, via PACK; -a: LOOKUP).

    \b
    Examples:
      nscpy pull -A -u nats://127.0.0.1:4222
      nscpy pull -a ORDERS --overwrite-newer
    """
    from nscpy.actions.pull import PullSpec
    from nscpy.actions.pull import pull as run

    report = run(app.workspace, spec_from(PullSpec, flags), conn)
    render_report(report, as_json)
