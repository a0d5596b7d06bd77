"""`nscpy import keys|account|user`: seeds, account JWTs or user JWTs/creds into the store."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import KEY, dir_option
from nscpy.commands.reporting import json_option, render_report


@click.command("keys")
@dir_option
@click.option("-R", "--recurse", is_flag=True, help="Also look in subdirectories.")
@json_option
@pass_app
def import_keys(app: AppContext, /, directory: Path, recurse: bool, as_json: bool) -> None:
    """Store the seed of every *.nk file in DIR (all or nothing).

    \b
    Examples:
      nscpy import keys -d backup
      nscpy import keys -d backup --recurse
    """
    from nscpy.actions.keyfiles import import_keys as run

    render_report(run(app.workspace, directory, recurse=recurse), as_json)


_file = click.option(
    "-f",
    "--file",
    "-j",
    "--jwt",
    "file",
    required=True,
    type=click.Path(path_type=Path),
    help="The .jwt (or for users .creds) file; '-' reads it from stdin.",
)


def _stdin_or(file: Path) -> tuple[Path, str | None]:
    """('-' means stdin) the label and the already-read text, or the file and None."""
    if str(file) != "-":
        return file, None
    text = sys.stdin.read()
    if not text.strip():
        raise click.UsageError("-f -: stdin was empty")
    return Path("<stdin>"), text


@click.command("account")
@_file
@click.option("--overwrite", is_flag=True, help="Replace an existing account with the same key.")
@click.option("--skip", is_flag=True, help="Import even if validation finds problems.")
@click.option("--force", is_flag=True, help="Re-sign an account issued by another operator.")
@click.option("-K", "--private-key", "signer", type=KEY, help="Operator key used to re-sign.")
@json_option
@pass_app
def import_account(
    app: AppContext,
    /,
    file: Path,
    overwrite: bool,
    skip: bool,
    force: bool,
    signer: str | None,
    as_json: bool,
) -> None:
    """Import an account JWT (self-signed ones are re-signed by the operator).

    \b
    Examples:
      nscpy import account -f orders.jwt
      nscpy import account -f orders.jwt --force --overwrite
    """
    from nscpy.actions.importing import ImportAccount
    from nscpy.actions.importing import import_account as run

    file, text = _stdin_or(file)
    spec = ImportAccount(
        file=file, overwrite=overwrite, skip=skip, force=force, signer=signer, text=text
    )
    render_report(run(app.workspace, spec), as_json)


@click.command("user")
@_file
@click.option("--overwrite", is_flag=True, help="Replace an existing user with the same key.")
@click.option("--skip", is_flag=True, help="Import even if validation finds problems.")
@json_option
@pass_app
def import_user(app: AppContext, /, file: Path, overwrite: bool, skip: bool, as_json: bool) -> None:
    """Import a user JWT or creds file (a seed in the creds is stored).

    \b
    Examples:
      nscpy import user -f alice.creds
      cat alice.jwt | nscpy import user -f -
    """
    from nscpy.actions.importing import ImportUser
    from nscpy.actions.importing import import_user as run

    file, text = _stdin_or(file)
    spec = ImportUser(file=file, overwrite=overwrite, skip=skip, text=text)
    render_report(run(app.workspace, spec), as_json)
