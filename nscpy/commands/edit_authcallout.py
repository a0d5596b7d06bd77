"""`nscpy edit authcallout`: who decides, for an account, who may connect."""

from __future__ import annotations

from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import KEY, account_option, list_option, spec_from
from nscpy.commands.reporting import json_option, report


@click.command("authcallout")
@click.argument("name_arg", required=False, metavar="[ACCOUNT]")
@account_option
@list_option("--auth-user", "auth_users", help="Users that bypass the callout (keys or names).")
@list_option("--rm-auth-user", "rm_auth_users", help="Remove auth users.")
@list_option(
    "--allowed-account", "allowed_accounts", help="Accounts the callout may assign, or '*'."
)
@list_option("--rm-allowed-account", "rm_allowed_accounts", help="Remove allowed accounts.")
@click.option(
    "-x", "--curve", type=KEY, help="Encrypt requests to this xkey (X key, SX seed or 'generate')."
)
@click.option("--rm-curve", is_flag=True, help="Stop encrypting callout requests.")
@click.option("--disable", is_flag=True, help="Remove the auth callout configuration.")
@json_option
@pass_app
def edit_authcallout(
    app: AppContext,
    /,
    name_arg: str | None,
    account: str | None,
    signer: str | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Configure the account's auth callout.

    \b
    Examples:
      nscpy edit authcallout AUTH --auth-user UABC... --allowed-account '*'
      nscpy edit authcallout -a AUTH --curve generate
    """
    from nscpy.actions.authcallout import AuthCalloutEdit, edit_authcallout

    spec = spec_from(AuthCalloutEdit, flags)
    saved = edit_authcallout(app.workspace, account or name_arg, spec, signer=signer)
    report(saved, as_json)
