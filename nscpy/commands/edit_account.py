"""`nscpy edit account`: limits, JetStream, default permissions, signing keys, info."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import (
    KEY,
    NUMBER,
    list_option,
    one_name,
    optional_bool,
    optional_time,
    permission_options,
    permission_spec,
    rm_permission_options,
    spec_from,
    start_expiry_options,
    tag_options,
)
from nscpy.commands.reporting import json_option, report

F = TypeVar("F", bound=Callable[..., Any])


_JS_VALUES = (
    ("--js-mem-storage", "mem_storage", "Memory storage bytes (-1 unlimited)."),
    ("--js-disk-storage", "disk_storage", "Disk storage bytes (-1 unlimited)."),
    ("--js-streams", "streams", "Max streams (-1 unlimited)."),
    ("--js-consumer", "consumer", "Max consumers (-1 unlimited)."),
    ("--js-max-ack-pending", "max_ack_pending", "Max pending acks per consumer."),
    ("--js-max-mem-stream", "mem_max_stream_bytes", "Max bytes of one memory stream."),
    ("--js-max-disk-stream", "disk_max_stream_bytes", "Max bytes of one disk stream."),
)


def js_options(f: F) -> F:
    """The --js-* flags of edit account."""
    for decl, dest, help_text in reversed(_JS_VALUES):
        f = click.option(decl, dest, type=NUMBER, default=None, help=help_text)(f)
    f = optional_bool("--js-max-bytes-required", "Streams must set max bytes.")(f)
    f = click.option(
        "--js-tier",
        type=click.IntRange(min=0),
        default=0,
        show_default=True,
        help="0 = global, N = tier RN.",
    )(f)
    f = click.option("--js-enable", type=int, default=None, help="Enable JetStream for tier N.")(f)
    f = click.option("--js-disable", is_flag=True, help="Remove every JetStream limit.")(f)
    return click.option(
        "--rm-js-tier", type=click.IntRange(min=0), multiple=True, help="Remove tier N."
    )(f)


_LIMITS = (
    ("--conns", "conns", "Max client connections (-1 unlimited)."),
    ("--leaf-conns", "leaf_conns", "Max leaf-node connections."),
    ("--data", "data", "Max data bytes."),
    ("--payload", "payload", "Max message payload."),
    ("--subscriptions", "subscriptions", "Max subscriptions."),
    ("--imports", "imports", "Max imports."),
    ("--exports", "exports", "Max exports."),
)


def limit_options(f: F) -> F:
    """The account limit flags."""
    for decl, dest, help_text in reversed(_LIMITS):
        f = click.option(decl, dest, type=NUMBER, default=None, help=help_text)(f)
    f = optional_bool("--wildcard-exports", "Allow wildcard exports (true/false).")(f)
    return optional_bool("--disallow-bearer", "Refuse bearer-token users (true/false).")(f)


@click.command("account")
@click.argument("name_arg", required=False, metavar="[NAME]")
@click.option("-n", "--name", "name_opt", help="Account (default: current).")
@click.option("-K", "--private-key", "signer", type=KEY, help="Operator key to sign with.")
@limit_options
@js_options
@permission_options
@rm_permission_options
@list_option(
    "--sk",
    "signing_keys",
    type=KEY,
    help="Add a signing key: public key, seed, file or 'generate'.",
)
@list_option("--rm-sk", "rm_signing_keys", help="Remove a signing key (key or scoped role).")
@click.option(
    "--adopt",
    is_flag=True,
    help="Re-sign even if the account JWT was issued by another operator (take it over).",
)
@click.option("--description", default=None, help="Description.")
@click.option("--info-url", default=None, help="Link to more information.")
@tag_options
@click.option(
    "--trace-context-subject",
    "trace_subject",
    default=None,
    help="Trace destination ('' disables).",
)
@click.option(
    "--trace-context-sampling",
    "trace_sampling",
    type=int,
    default=None,
    help="Trace sampling 1..100.",
)
@click.option(
    "--host-cluster-traffic",
    "cluster_traffic",
    type=click.Choice(["system", "owner"]),
    default=None,
    hidden=True,
    help="Which account carries cluster traffic.",
)
@start_expiry_options
@json_option
@pass_app
def edit_account(
    app: AppContext,
    /,
    name_arg: str | None,
    name_opt: str | None,
    start: str | None,
    expiry: str | None,
    as_json: bool,
    **flags: Any,
) -> None:
    """Edit an account: limits, JetStream, default permissions, signing keys, info, tracing.

    \b
    Examples:
      nscpy edit account ORDERS --conns 100 --data 1G
      nscpy edit account ORDERS --js-enable 1 --js-disk-storage 10G
      nscpy edit account ORDERS --sk generate
    """
    from nscpy.actions.edit_account import AccountEdit, JetStreamEdit, edit_account

    account = one_name(name_opt, name_arg)
    ws = app.workspace
    now = ws.now()
    # the --js-* flags fill JetStreamEdit, whose per-tier values are one dict
    js = JetStreamEdit(
        tier=flags.pop("js_tier"),
        values={d: v for _, d, _ in _JS_VALUES if (v := flags.pop(d)) is not None},
        max_bytes_required=flags.pop("js_max_bytes_required"),
        enable=flags.pop("js_enable"),
        disable=flags.pop("js_disable"),
        rm_tiers=list(flags.pop("rm_js_tier")),
    )
    permissions = permission_spec(flags)
    spec = spec_from(
        AccountEdit,
        flags,
        account=account,
        jetstream=js,
        default_permissions=permissions,
        start=optional_time(start, now),
        expiry=optional_time(expiry, now),
    )
    report(edit_account(ws, spec), as_json)
