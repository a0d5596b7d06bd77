"""`nscpy delete user|account|export|import|mapping`."""

from __future__ import annotations

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import account_option, one_name, split_list
from nscpy.commands.reporting import json_option, render_report, report

_rm_nkey = click.option("-D", "--rm-nkey", is_flag=True, help="Also delete the seeds.")


_rm_creds = click.option("-C", "--rm-creds", is_flag=True, help="Also delete the creds files.")


_signer = click.option(
    "-K", "--private-key", "signer", help="Operator key that re-signs the account."
)


@click.command("user")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("-n", "--name", "name_opts", multiple=True, help="User(s) to delete (or repeat).")
@click.option("-a", "--account", help="Account name or public key (default: current).")
@click.option("-R", "--revoke", is_flag=True, help="Revoke the users in the account JWT first.")
@_rm_nkey
@_rm_creds
@_signer
@json_option
@pass_app
def delete_user(
    app: AppContext,
    /,
    names: tuple[str, ...],
    name_opts: tuple[str, ...],
    account: str | None,
    revoke: bool,
    rm_nkey: bool,
    rm_creds: bool,
    signer: str | None,
    as_json: bool,
) -> None:
    """Delete users (by name or public key) from an account.

    \b
    Examples:
      nscpy delete user -a ORDERS alice
      nscpy delete user -a ORDERS -n alice -n bob --revoke --rm-nkey --rm-creds
    """
    from nscpy.actions.delete import DeleteUsers, delete_users

    wanted = split_list(name_opts) + list(names)
    if not wanted:
        raise click.UsageError("name the user(s) to delete: pass NAME or -n NAME")
    spec = DeleteUsers(
        names=wanted,
        account=account,
        revoke=revoke,
        rm_nkey=rm_nkey,
        rm_creds=rm_creds,
        signer=signer,
    )
    render_report(delete_users(app.workspace, spec), as_json)


@click.command("account")
@click.argument("name_arg", required=False, metavar="NAME")
@click.option("-n", "--name", "name_opt", help="Account to delete (name or public key).")
@click.option(
    "-R",
    "--revoke/--no-revoke",
    default=True,
    show_default=True,
    help="Revoke the account's users before deleting them.",
)
@_rm_nkey
@_rm_creds
@_signer
@json_option
@pass_app
def delete_account(
    app: AppContext,
    /,
    name_arg: str | None,
    name_opt: str | None,
    revoke: bool,
    rm_nkey: bool,
    rm_creds: bool,
    signer: str | None,
    as_json: bool,
) -> None:
    """Delete an account and its users (revoked first unless --no-revoke).

    \b
    Examples:
      nscpy delete account ORDERS
      nscpy delete account -n ORDERS --rm-nkey --rm-creds
    """
    from nscpy.actions.delete import DeleteAccount, delete_account

    name = one_name(name_opt, name_arg)
    if not name:
        # unlike nsc, never fall back to the current account: deleting is not undoable
        raise click.UsageError("name the account to delete: pass NAME or -n NAME")
    spec = DeleteAccount(
        name=name, revoke=revoke, rm_nkey=rm_nkey, rm_creds=rm_creds, signer=signer
    )
    render_report(delete_account(app.workspace, spec), as_json)


@click.command("export")
@account_option
@click.option("-s", "--subject", required=True, help="The export to delete, by subject.")
@click.option("--service/--stream", default=None, help="Kind of export (when ambiguous).")
@json_option
@pass_app
def delete_export(
    app: AppContext,
    /,
    account: str | None,
    signer: str | None,
    subject: str,
    service: bool | None,
    as_json: bool,
) -> None:
    """Delete an export.

    \b
    Examples:
      nscpy delete export -a ORDERS -s 'orders.>'
    """
    from nscpy.actions.exports import delete_export

    saved = delete_export(app.workspace, account, subject, service=service, signer=signer)
    report(saved, as_json)


@click.command("import")
@account_option
@click.option("-s", "--subject", required=True, help="The import's subject (or local subject).")
@click.option("--src-account", default=None, help="Exporting account, when ambiguous.")
@json_option
@pass_app
def delete_import(
    app: AppContext,
    /,
    account: str | None,
    signer: str | None,
    subject: str,
    src_account: str | None,
    as_json: bool,
) -> None:
    """Delete an import.

    \b
    Examples:
      nscpy delete import -a SHIPPING -s 'orders.>'
      nscpy delete import -a SHIPPING -s orders.status --src-account ORDERS
    """
    from nscpy.actions.imports import delete_import

    saved = delete_import(app.workspace, account, subject, src_account=src_account, signer=signer)
    report(saved, as_json)


@click.command("mapping")
@account_option
@click.option("-f", "--from", "source", required=True, help="Mapping source subject.")
@click.option("-t", "--to", "destination", default=None, help="One destination (default: all).")
@click.option("--cluster", default=None, help="Only the entries of this cluster.")
@json_option
@pass_app
def delete_mapping(
    app: AppContext,
    /,
    account: str | None,
    signer: str | None,
    source: str,
    destination: str | None,
    cluster: str | None,
    as_json: bool,
) -> None:
    """Delete a mapping, or one of its destinations.

    \b
    Examples:
      nscpy delete mapping -a ORDERS -f orders.new
      nscpy delete mapping -a ORDERS -f orders.new -t orders.canary
    """
    from nscpy.actions.mappings import delete_mapping

    saved = delete_mapping(
        app.workspace, account, source, destination, cluster=cluster, signer=signer
    )
    report(saved, as_json)
