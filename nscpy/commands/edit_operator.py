"""`nscpy edit operator`: signing keys, strict mode, system account, URLs, tags, dates."""

from __future__ import annotations

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import (
    KEY,
    optional_bool,
    optional_time,
    split_list,
    start_expiry_options,
    tag_options,
)
from nscpy.commands.reporting import json_option, report


@click.command("operator")
@click.option("--name", help="Operator (default: current).")
@click.option(
    "--sk", multiple=True, type=KEY, help="Add a signing key: public key, seed, file or 'generate'."
)
@click.option("--rm-sk", multiple=True, help="Remove a signing key.")
@optional_bool("--require-signing-keys", "Only signing keys may sign accounts and users.")
@click.option("--system-account", help="The system account (name or public key; '' clears).")
@click.option("-u", "--account-jwt-server-url", help="Account JWT server URL ('' clears).")
@click.option("--rm-account-jwt-server-url", is_flag=True, help="Clear the account server URL.")
@click.option(
    "-n", "--service-url", multiple=True, help="Add an operator service URL (nats://...)."
)
@click.option("--rm-service-url", multiple=True, help="Remove an operator service URL.")
@tag_options
@start_expiry_options
@json_option
@pass_app
def edit_operator(
    app: AppContext,
    /,
    name: str | None,
    sk: tuple[str, ...],
    rm_sk: tuple[str, ...],
    require_signing_keys: bool | None,
    system_account: str | None,
    account_jwt_server_url: str | None,
    rm_account_jwt_server_url: bool,
    service_url: tuple[str, ...],
    rm_service_url: tuple[str, ...],
    tag: tuple[str, ...],
    rm_tag: tuple[str, ...],
    start: str | None,
    expiry: str | None,
    as_json: bool,
) -> None:
    """Edit the operator: signing keys, strict mode, system account, URLs, tags, dates.

    \b
    Examples:
      nscpy edit operator --system-account SYS
      nscpy edit operator -u nats://127.0.0.1:4222 --sk generate --require-signing-keys
    """
    from nscpy.actions.edit_operator import OperatorEdit, edit_operator

    if rm_account_jwt_server_url:
        if account_jwt_server_url:
            raise click.UsageError("-u and --rm-account-jwt-server-url contradict each other")
        account_jwt_server_url = ""
    ws = app.workspace
    now = ws.now()
    spec = OperatorEdit(
        name=name,
        signing_keys=split_list(sk),
        rm_signing_keys=split_list(rm_sk),
        require_signing_keys=require_signing_keys,
        system_account=system_account,
        account_server_url=account_jwt_server_url,
        service_urls=split_list(service_url),
        rm_service_urls=split_list(rm_service_url),
        tags=split_list(tag),
        rm_tags=split_list(rm_tag),
        start=optional_time(start, now),
        expiry=optional_time(expiry, now),
    )
    report(edit_operator(ws, spec), as_json)
