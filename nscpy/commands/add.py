"""`nscpy add operator|account|user|export|import|mapping`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import (
    KEY,
    account_option,
    export_change,
    export_options,
    list_option,
    one_name,
    permission_options,
    permission_spec,
    resolve_time,
    spec_from,
    start_expiry_options,
)
from nscpy.commands.reporting import json_option, report, report_saved


def name_argument_or_option(f: Any) -> Any:
    """nsc accepts the name as -n/--name or as the first argument."""
    f = click.argument("name_arg", required=False, metavar="[NAME]")(f)
    return click.option("-n", "--name", "name_opt", help="Name of the new entity.")(f)


def _name(name_opt: str | None, name_arg: str | None) -> str:
    name = one_name(name_opt, name_arg)
    if not name:
        raise click.UsageError("a name is required: pass -n NAME")
    return name


def _report(saved: list[Any], as_json: bool) -> None:
    report_saved(saved, as_json, "added", note_label="[WARN]")


@click.command("operator")
@name_argument_or_option
@click.option("-s", "--sys", "sys_account", is_flag=True, help="Also create a SYS account + user.")
@click.option("--generate-signing-key", is_flag=True, help="Add a new operator signing key.")
@click.option(
    "-K", "--private-key", "key", type=KEY, help="Operator seed (or file) to use, not generated."
)
@click.option(
    "-u",
    "--url",
    "import_file",
    help="Import the operator JWT from an http(s) URL, a file, or NSC_<NAME>_OPERATOR's URL.",
)
@click.option("--force", is_flag=True, help="With -u: overwrite an existing operator.")
@start_expiry_options
@click.option("--json", "as_json", is_flag=True, help="Print what was added as JSON.")
@pass_app
def add_operator(
    app: AppContext,
    /,
    name_opt: str | None,
    name_arg: str | None,
    sys_account: bool,
    generate_signing_key: bool,
    key: str | None,
    import_file: str | None,
    force: bool,
    start: str | None,
    expiry: str | None,
    as_json: bool,
) -> None:
    """Create an operator (or import one with -u); it becomes current.

    \b
    Examples:
      nscpy add operator -n ACME --sys --generate-signing-key
      nscpy add operator -u http://127.0.0.1:9090/jwt/v1/operator
    """
    from nscpy.actions.operators import OperatorSpec, add_operator, import_operator

    ws = app.workspace
    if import_file:
        from nscpy.actions.account_server import fetch_operator, operator_source
        from nscpy.resolver.http import is_account_server_url

        source = operator_source(import_file, dict(ws.env))
        if is_account_server_url(source):
            token = fetch_operator(source)
        else:
            token = Path(source).read_text("utf-8")
        _report([import_operator(ws, token, force=force)], as_json)
        return
    now = ws.now()
    spec = OperatorSpec(
        name=_name(name_opt, name_arg),
        key=key,
        sys=sys_account,
        generate_signing_key=generate_signing_key,
        start=resolve_time(start, now),
        expiry=resolve_time(expiry, now),
    )
    _report(add_operator(ws, spec), as_json)


@click.command("account")
@name_argument_or_option
@click.option(
    "-K", "--private-key", "signer", type=KEY, help="Operator key to sign with (seed/pub/file)."
)
@click.option(
    "-k", "--public-key", type=KEY, help="Use this account key (not stored) instead of a new one."
)
@permission_options
@start_expiry_options
@click.option("--json", "as_json", is_flag=True, help="Print what was added as JSON.")
@pass_app
def add_account(
    app: AppContext,
    /,
    name_opt: str | None,
    name_arg: str | None,
    start: str | None,
    expiry: str | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Create an account signed by the operator; it becomes current.

    \b
    Examples:
      nscpy add account -n ORDERS
      nscpy add account ORDERS --allow-pub 'orders.>' --expiry 1y
    """
    from nscpy.actions.accounts import AccountSpec, add_account

    ws = app.workspace
    now = ws.now()
    permissions = permission_spec(flags)
    spec = spec_from(
        AccountSpec,
        flags,
        name=_name(name_opt, name_arg),
        start=resolve_time(start, now),
        expiry=resolve_time(expiry, now),
        default_permissions=permissions,
    )
    _report(add_account(ws, spec), as_json)


@click.command("user")
@name_argument_or_option
@click.option("-a", "--account", help="Account name or public key (default: current).")
@click.option(
    "-K", "--private-key", "signer", type=KEY, help="Account key or scoped role to sign with."
)
@click.option(
    "-k", "--public-key", type=KEY, help="Use this user key (not stored) instead of a new one."
)
@permission_options
@click.option("--bearer", is_flag=True, help="No nonce signature needed to connect.")
@list_option("--tag", "tags", help="Tags (comma-separated or repeated).")
@list_option("--source-network", "source_networks", help="Allowed client CIDRs.")
@start_expiry_options
@click.option("--json", "as_json", is_flag=True, help="Print what was added as JSON.")
@pass_app
def add_user(
    app: AppContext,
    /,
    name_opt: str | None,
    name_arg: str | None,
    start: str | None,
    expiry: str | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Create a user and its creds file.

    \b
    Examples:
      nscpy add user -a ORDERS -n alice
      nscpy add user -a ORDERS -n svc --allow-sub 'orders.>' --deny-pub '>' --expiry 90d
    """
    from nscpy.actions.users import UserSpec, add_user

    ws = app.workspace
    now = ws.now()
    permissions = permission_spec(flags)
    spec = spec_from(
        UserSpec,
        flags,
        name=_name(name_opt, name_arg),
        permissions=permissions,
        start=resolve_time(start, now),
        expiry=resolve_time(expiry, now),
    )
    _report(add_user(ws, spec), as_json)


@click.command("export")
@account_option
@click.option("-s", "--subject", required=True, help="Subject to export (wildcards allowed).")
@click.option("-r", "--service", is_flag=True, help="Export a service (default: a stream).")
@click.option("-p", "--private", is_flag=True, help="Importers need an activation token.")
@export_options
@json_option
@pass_app
def add_export(
    app: AppContext,
    /,
    account: str | None,
    signer: str | None,
    subject: str,
    as_json: bool,
    **kw: Any,
) -> None:
    """Add a stream or service export to an account.

    \b
    Examples:
      nscpy add export -a ORDERS -s 'orders.>'
      nscpy add export -a ORDERS -s orders.status --service --private
    """
    from nscpy.actions.exports import add_export

    change = export_change(kw)
    report(add_export(app.workspace, account, subject, change, signer=signer), as_json)


@click.command("import")
@account_option
@click.option("-n", "--name", default=None, help="Import name (default: the remote subject).")
@click.option("-s", "--local-subject", default=None, help="Subject in the importing account.")
@click.option("--src-account", default=None, help="Exporting account (name or public key).")
@click.option("--remote-subject", default=None, help="The exported subject.")
@click.option("--service", is_flag=True, default=None, help="Import a service.")
@click.option("--share", is_flag=True, help="Share latency information (services).")
@click.option("--allow-trace", is_flag=True, help="Allow message tracing (streams).")
@click.option(
    "-u",
    "--token",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="File holding the exporter's activation JWT (private exports).",
)
@json_option
@pass_app
def add_import(
    app: AppContext,
    /,
    account: str | None,
    signer: str | None,
    service: bool | None,
    token: str | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Import a stream or service (public, or private with --token).

    \b
    Examples:
      nscpy add import -a SHIPPING --src-account ORDERS --remote-subject 'orders.>'
      nscpy add import -a SHIPPING --src-account ORDERS --remote-subject orders.status --service
      nscpy add import -a SHIPPING --src-account ORDERS --remote-subject 'orders.>' -u act.jwt
    """
    from nscpy.actions.imports import ImportSpec, add_import

    spec = spec_from(
        ImportSpec,
        flags,
        service=service or None,
        token=Path(token).read_text("utf-8") if token else None,
    )
    report(add_import(app.workspace, account, spec, signer=signer), as_json)


@click.command("mapping")
@account_option
@click.option("-f", "--from", "source", required=True, help="Subject to map from.")
@click.option("-t", "--to", "destination", required=True, help="Subject to map to.")
@click.option("--weight", type=click.IntRange(1, 100), default=100, show_default=True)
@click.option("--cluster", default="", help="Only in this cluster.")
@json_option
@pass_app
def add_mapping(
    app: AppContext,
    /,
    account: str | None,
    signer: str | None,
    source: str,
    destination: str,
    weight: int,
    cluster: str,
    as_json: bool,
) -> None:
    """Add (or re-weight) a subject mapping.

    \b
    Examples:
      nscpy add mapping -a ORDERS -f orders.new -t orders.v2.new
      nscpy add mapping -a ORDERS -f orders.new -t orders.canary --weight 10
    """
    from nscpy.actions.mappings import add_mapping

    saved = add_mapping(
        app.workspace, account, source, destination, weight=weight, cluster=cluster, signer=signer
    )
    report(saved, as_json)
