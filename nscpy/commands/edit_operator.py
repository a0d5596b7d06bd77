"""`nscpy edit operator`: signing keys, strict mode, system account, URLs, tags, dates."""

from __future__ import annotations

from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import (
    KEY,
    list_option,
    optional_bool,
    optional_time,
    spec_from,
    start_expiry_options,
    tag_options,
)
from nscpy.commands.reporting import json_option, report


@click.command("operator")
@click.option("--name", help="Operator (default: current).")
@list_option(
    "--sk",
    "signing_keys",
    type=KEY,
    help="Add a signing key: public key, seed, file or 'generate'.",
)
@list_option("--rm-sk", "rm_signing_keys", help="Remove a signing key.")
@optional_bool("--require-signing-keys", "Only signing keys may sign accounts and users.")
@click.option("--system-account", help="The system account (name or public key; '' clears).")
@click.option(
    "-u",
    "--account-jwt-server-url",
    "account_server_url",
    help="Account JWT server URL ('' clears).",
)
@click.option("--rm-account-jwt-server-url", is_flag=True, help="Clear the account server URL.")
@list_option(
    "-n", "--service-url", "service_urls", help="Add an operator service URL (nats://...)."
)
@list_option("--rm-service-url", "rm_service_urls", help="Remove an operator service URL.")
@tag_options
@start_expiry_options
@json_option
@pass_app
def edit_operator(
    app: AppContext,
    /,
    rm_account_jwt_server_url: bool,
    start: str | None,
    expiry: str | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Edit the operator: signing keys, strict mode, system account, URLs, tags, dates.

    \b
    Examples:
      nscpy edit operator --system-account SYS
      nscpy edit operator -u nats://127.0.0.1:4222 --sk generate --require-signing-keys
    """
    from nscpy.actions.edit_operator import OperatorEdit, edit_operator

    if rm_account_jwt_server_url:
        if flags["account_server_url"]:
            raise click.UsageError("-u and --rm-account-jwt-server-url contradict each other")
        flags["account_server_url"] = ""
    ws = app.workspace
    now = ws.now()
    spec = spec_from(
        OperatorEdit, flags, start=optional_time(start, now), expiry=optional_time(expiry, now)
    )
    report(edit_operator(ws, spec), as_json)
