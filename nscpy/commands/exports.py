"""`nscpy add|edit|delete export`, `add|delete import`, `generate activation`, mappings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.edit import account_option, optional_bool, report
from nscpy.commands.output import output_path
from nscpy.commands.params import DURATION, KEY, resolve_time, start_expiry_options
from nscpy.commands.reporting import json_option


class SamplingType(click.ParamType[Any, Any]):
    """--sampling: 1..100 percent, or 'headers' (sample requests carrying trace headers)."""

    name = "1-100|headers"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip().lower()
        if text in ("header", "headers"):
            return 0
        if text.isdigit() and 0 <= int(text) <= 100:
            return int(text)
        self.fail(f"{value!r} is not a sampling rate: use 1..100 or 'headers'", param, ctx)


SAMPLING = SamplingType()


def _export_options(f: Any) -> Any:
    f = click.option("-n", "--name", default=None, help="Export name (default: the subject).")(f)
    f = click.option("--response-type", type=click.Choice(["Singleton", "Stream", "Chunked"]))(f)
    f = click.option("--response-threshold", type=DURATION, default=None, help="e.g. 5s.")(f)
    f = click.option("--latency", default=None, help="Subject for service latency results.")(f)
    f = click.option("--sampling", type=SAMPLING, default=None, help="1..100 or 'headers'.")(f)
    f = optional_bool("--allow-trace", "Allow message tracing through this service.")(f)
    f = click.option("--account-token-position", type=click.IntRange(min=1), default=None)(f)
    f = optional_bool("--advertise", "Advertise the export.")(f)
    f = click.option("--description", default=None, help="Description.")(f)
    return click.option("--info-url", default=None, help="Link to more information.")(f)


def _change(kw: dict[str, Any], **extra: Any) -> Any:
    from nscpy.actions.exports import ExportChange

    return ExportChange(
        name=kw["name"],
        response_type=kw["response_type"],
        response_threshold_ns=kw["response_threshold"],
        latency_subject=kw["latency"],
        sampling=kw["sampling"],
        allow_trace=kw["allow_trace"],
        token_position=kw["account_token_position"],
        advertise=kw["advertise"],
        description=kw["description"],
        info_url=kw["info_url"],
        **extra,
    )


@click.command("export")
@account_option
@click.option("-s", "--subject", required=True, help="Subject to export (wildcards allowed).")
@click.option("-r", "--service", is_flag=True, help="Export a service (default: a stream).")
@click.option("-p", "--private", is_flag=True, help="Importers need an activation token.")
@_export_options
@json_option
@pass_app
def add_export(
    app: AppContext,
    /,
    account: str | None,
    signer: str | None,
    subject: str,
    service: bool,
    private: bool,
    as_json: bool,
    **kw: Any,
) -> None:
    """Add a stream or service export to an account."""
    from nscpy.actions.exports import add_export

    change = _change(kw, service=service, private=private)
    report(add_export(app.workspace, account, subject, change, signer=signer), as_json)


@click.command("export")
@account_option
@click.option("-s", "--subject", required=True, help="The export to edit, by subject.")
@click.option("--new-subject", default=None, help="Change the exported subject.")
@click.option("-r/--stream", "--service", "service", default=None, help="Make it a service.")
@click.option("-p/--public", "--private/--public", "private", default=None, help="Token needed?")
@click.option("--rm-latency-sampling", is_flag=True, help="Stop latency tracking.")
@_export_options
@json_option
@pass_app
def edit_export(
    app: AppContext,
    /,
    account: str | None,
    signer: str | None,
    subject: str,
    new_subject: str | None,
    service: bool | None,
    private: bool | None,
    rm_latency_sampling: bool,
    as_json: bool,
    **kw: Any,
) -> None:
    """Edit an export found by its subject."""
    from nscpy.actions.exports import edit_export

    change = _change(kw, service=service, private=private, rm_latency=rm_latency_sampling)
    saved = edit_export(
        app.workspace, account, subject, change, new_subject=new_subject, signer=signer
    )
    report(saved, as_json)


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
    """Delete an export."""
    from nscpy.actions.exports import delete_export

    saved = delete_export(app.workspace, account, subject, service=service, signer=signer)
    report(saved, as_json)


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
    name: str | None,
    local_subject: str | None,
    src_account: str | None,
    remote_subject: str | None,
    service: bool | None,
    share: bool,
    allow_trace: bool,
    token: str | None,
    as_json: bool,
) -> None:
    """Import a stream or service (public, or private with --token)."""
    from nscpy.actions.imports import ImportSpec, add_import

    spec = ImportSpec(
        src_account=src_account,
        remote_subject=remote_subject,
        local_subject=local_subject,
        name=name,
        service=service or None,
        share=share,
        allow_trace=allow_trace,
        token=Path(token).read_text("utf-8") if token else None,
    )
    report(add_import(app.workspace, account, spec, signer=signer), as_json)


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
    """Delete an import."""
    from nscpy.actions.imports import delete_import

    saved = delete_import(app.workspace, account, subject, src_account=src_account, signer=signer)
    report(saved, as_json)


@click.command("activation")
@click.option("-a", "--account", help="Exporting account (default: current).")
@click.option("-K", "--private-key", "signer", type=KEY, help="Exporting account key to sign with.")
@click.option("-s", "--subject", required=True, help="Subject of the private export to grant.")
@click.option("-t", "--target-account", required=True, help="Importing account (name or key).")
@click.option("-o", "--output-file", default="--", help="File to write ('--' = stdout).")
@start_expiry_options
@pass_app
def generate_activation(
    app: AppContext,
    /,
    account: str | None,
    signer: str | None,
    subject: str,
    target_account: str,
    output_file: str,
    start: str | None,
    expiry: str | None,
) -> None:
    """Sign an activation token that lets one account import a private export."""
    from nscpy.actions.activation import generate_activation

    ws = app.workspace
    now = ws.now()
    activation = generate_activation(
        ws,
        account,
        subject,
        target_account,
        start=resolve_time(start, now),
        expiry=resolve_time(expiry, now),
        signer=signer,
    )
    path = output_path(output_file)
    if path is None:
        click.echo(activation.decorated(), nl=False)
    else:
        from nscpy.store.atomic import write_output

        write_output(path, activation.decorated())
        click.echo(f"[ OK ] wrote activation for {activation.claims.subject} to {output_file}")


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
    """Add (or re-weight) a subject mapping."""
    from nscpy.actions.mappings import add_mapping

    saved = add_mapping(
        app.workspace, account, source, destination, weight=weight, cluster=cluster, signer=signer
    )
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
    """Delete a mapping, or one of its destinations."""
    from nscpy.actions.mappings import delete_mapping

    saved = delete_mapping(
        app.workspace, account, source, destination, cluster=cluster, signer=signer
    )
    report(saved, as_json)
