"""`nscpy import keys|account|user` and `nscpy export keys`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import KEY
from nscpy.commands.reporting import json_option as _json
from nscpy.commands.reporting import render_report

_dir = click.option(
    "-d", "--dir", "directory", required=True, type=click.Path(path_type=Path), help="Directory."
)


@click.command("keys")
@_dir
@click.option("-R", "--recurse", is_flag=True, help="Also look in subdirectories.")
@_json
@pass_app
def import_keys(app: AppContext, /, directory: Path, recurse: bool, as_json: bool) -> None:
    """Store the seed of every *.nk file in DIR (all or nothing)."""
    from nscpy.actions.keyfiles import import_keys as run

    render_report(run(app.workspace, directory, recurse=recurse), as_json)


@click.command("keys")
@_dir
@click.option("-o", "--operator", is_flag=True, help="Operator keys.")
@click.option("-a", "--accounts", is_flag=True, help="Account keys.")
@click.option("-u", "--users", is_flag=True, help="User keys.")
@click.option("-A", "--all", "all_keys", is_flag=True, help="Operator, account and user keys.")
@click.option("--account", help="Limit to this account (name or public key).")
@click.option("--user", help="Only this user's key.")
@click.option("-f", "--filter", "key_filter", default="", help="Keys containing this text.")
@click.option("--not-referenced", is_flag=True, help="Keystore keys the store does not use.")
@click.option("--include-jwts", is_flag=True, help="Also write <PUBKEY>.jwt files.")
@click.option("-F", "--force", is_flag=True, help="Overwrite existing files in DIR.")
@click.option("-R", "--remove", is_flag=True, help="Remove the seeds from the keystore after.")
@_json
@pass_app
def export_keys(
    app: AppContext,
    /,
    directory: Path,
    operator: bool,
    accounts: bool,
    users: bool,
    all_keys: bool,
    account: str | None,
    user: str | None,
    key_filter: str,
    not_referenced: bool,
    include_jwts: bool,
    force: bool,
    remove: bool,
    as_json: bool,
) -> None:
    """Copy seeds (as <PUBKEY>.nk, mode 0600) to DIR; no flags: current operator/account/users."""
    from nscpy.actions.keyfiles import ExportSpec
    from nscpy.actions.keyfiles import export_keys as run

    spec = ExportSpec(
        directory=directory,
        operator=operator,
        accounts=accounts,
        users=users,
        all=all_keys,
        account=account,
        user=user,
        filter=key_filter,
        not_referenced=not_referenced,
        include_jwts=include_jwts,
        force=force,
        remove=remove,
    )
    render_report(run(app.workspace, spec), as_json)


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
@_json
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
    """Import an account JWT (self-signed ones are re-signed by the operator)."""
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
@_json
@pass_app
def import_user(app: AppContext, /, file: Path, overwrite: bool, skip: bool, as_json: bool) -> None:
    """Import a user JWT or creds file (a seed in the creds is stored)."""
    from nscpy.actions.importing import ImportUser
    from nscpy.actions.importing import import_user as run

    file, text = _stdin_or(file)
    spec = ImportUser(file=file, overwrite=overwrite, skip=skip, text=text)
    render_report(run(app.workspace, spec), as_json)
