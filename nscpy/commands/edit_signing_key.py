"""`nscpy edit signing-key`: the scope (user template) of an account signing key."""

from __future__ import annotations

from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.edit_user import limits_edit, user_limit_options
from nscpy.commands.params import KEY, spec_from
from nscpy.commands.reporting import json_option, report


@click.command("signing-key")
@click.option("-a", "--account", help="Account name or public key (default: current).")
@click.option(
    "-K", "--private-key", "signer", type=KEY, help="Operator key to sign the account with."
)
@click.option(
    "--sk",
    "key",
    required=True,
    type=KEY,
    help="Signing key: public key, seed, file, role name or 'generate'.",
)
@click.option("--role", default=None, help="Role name (usable with -K when adding users).")
@click.option("--description", default=None, help="Description of the scope.")
@user_limit_options
@json_option
@pass_app
def edit_signing_key(
    app: AppContext,
    /,
    as_json: bool,
    **flags: Any,
) -> None:
    """Create or edit a scoped signing key: users it signs get this permission template.

    \b
    Examples:
      nscpy edit signing-key -a ORDERS --sk ADKB... --role readers --allow-sub 'orders.>'
      nscpy add user -a ORDERS -n reader -K readers   # users get the scope's permissions
    """
    from nscpy.actions.edit_signing_key import ScopeEdit, edit_signing_key

    limits = limits_edit(flags)
    report(edit_signing_key(app.workspace, spec_from(ScopeEdit, flags, limits=limits)), as_json)
