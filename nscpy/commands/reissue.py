"""`nscpy reissue operator`."""

from __future__ import annotations

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import KEY
from nscpy.commands.reporting import json_option, report


@click.command("operator")
@click.option("-n", "--name", default=None, help="Operator (default: current).")
@click.option(
    "-K", "--private-key", "key", type=KEY, default=None, help="New identity seed (default: new)."
)
@click.option(
    "--convert-to-signing-key",
    is_flag=True,
    help="Keep the old identity as a signing key (accounts need no re-signing).",
)
@json_option
@pass_app
def reissue_operator(
    app: AppContext,
    /,
    name: str | None,
    key: str | None,
    convert_to_signing_key: bool,
    as_json: bool,
) -> None:
    """Give the operator a new identity key and re-sign the accounts it issued.

    \b
    Examples:
      nscpy reissue operator
      nscpy reissue operator --convert-to-signing-key
    """
    from nscpy.actions.reissue import reissue_operator

    saved = reissue_operator(
        app.workspace, name, key=key, convert_to_signing_key=convert_to_signing_key
    )
    report(saved, as_json, verb="reissued")
