"""`nscpy edit authcallout`: who decides, for an account, who may connect."""

from __future__ import annotations

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import KEY, account_option, split_list
from nscpy.commands.reporting import json_option, report


@click.command("authcallout")
@click.argument("name_arg", required=False, metavar="[ACCOUNT]")
@account_option
@click.option("--auth-user", multiple=True, help="Users that bypass the callout (keys or names).")
@click.option("--rm-auth-user", multiple=True, help="Remove auth users.")
@click.option("--allowed-account", multiple=True, help="Accounts the callout may assign, or '*'.")
@click.option("--rm-allowed-account", multiple=True, help="Remove allowed accounts.")
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
    auth_user: tuple[str, ...],
    rm_auth_user: tuple[str, ...],
    allowed_account: tuple[str, ...],
    rm_allowed_account: tuple[str, ...],
    curve: str | None,
    rm_curve: bool,
    disable: bool,
    as_json: bool,
) -> None:
    """Configure the account's auth callout.

    \b
    Examples:
      nscpy edit authcallout AUTH --auth-user UABC... --allowed-account '*'
      nscpy edit authcallout -a AUTH --curve generate
    """
    from nscpy.actions.authcallout import AuthCalloutEdit, edit_authcallout

    spec = AuthCalloutEdit(
        auth_users=split_list(auth_user),
        rm_auth_users=split_list(rm_auth_user),
        allowed_accounts=split_list(allowed_account),
        rm_allowed_accounts=split_list(rm_allowed_account),
        curve=curve,
        rm_curve=rm_curve,
        disable=disable,
    )
    saved = edit_authcallout(app.workspace, account or name_arg, spec, signer=signer)
    report(saved, as_json)
