"""`nscpy edit export`: change an export found by its subject."""

from __future__ import annotations

from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import account_option, export_change, export_options
from nscpy.commands.reporting import json_option, report


@click.command("export")
@account_option
@click.option("-s", "--subject", required=True, help="The export to edit, by subject.")
@click.option("--new-subject", default=None, help="Change the exported subject.")
@click.option("-r/--stream", "--service", "service", default=None, help="Make it a service.")
@click.option("-p/--public", "--private/--public", "private", default=None, help="Token needed?")
@click.option("--rm-latency-sampling", "rm_latency", is_flag=True, help="Stop latency tracking.")
@export_options
@json_option
@pass_app
def edit_export(
    app: AppContext,
    /,
    account: str | None,
    signer: str | None,
    subject: str,
    new_subject: str | None,
    as_json: bool,
    **kw: Any,
) -> None:
    """Edit an export found by its subject.

    \b
    Examples:
      nscpy edit export -a ORDERS -s 'orders.>' --description 'order events'
      nscpy edit export -a ORDERS -s orders.status --response-threshold 5s
    """
    from nscpy.actions.exports import edit_export

    change = export_change(kw)
    saved = edit_export(
        app.workspace, account, subject, change, new_subject=new_subject, signer=signer
    )
    report(saved, as_json)
