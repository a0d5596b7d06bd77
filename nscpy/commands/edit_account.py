"""`nscpy edit account`: limits, JetStream, default permissions, signing keys, info."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import (
    KEY,
    NUMBER,
    one_name,
    optional_bool,
    optional_time,
    permission_options,
    permission_spec,
    rm_permission_options,
    split_list,
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
@click.option(
    "--sk", multiple=True, type=KEY, help="Add a signing key: public key, seed, file or 'generate'."
)
@click.option("--rm-sk", multiple=True, help="Remove a signing key (key or scoped role).")
@click.option(
    "--adopt",
    is_flag=True,
    help="Re-sign even if the account JWT was issued by another operator (take it over).",
)
@click.option("--description", default=None, help="Description.")
@click.option("--info-url", default=None, help="Link to more information.")
@tag_options
@click.option("--trace-context-subject", default=None, help="Trace destination ('' disables).")
@click.option("--trace-context-sampling", type=int, default=None, help="Trace sampling 1..100.")
@click.option(
    "--host-cluster-traffic",
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
    signer: str | None,
    start: str | None,
    expiry: str | None,
    as_json: bool,
    **kw: Any,
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
    js = JetStreamEdit(
        tier=kw["js_tier"],
        values={dest: kw[dest] for _, dest, _ in _JS_VALUES if kw[dest] is not None},
        max_bytes_required=kw["js_max_bytes_required"],
        enable=kw["js_enable"],
        disable=kw["js_disable"],
        rm_tiers=list(kw["rm_js_tier"]),
    )
    spec = AccountEdit(
        account=account,
        signer=signer,
        adopt=kw["adopt"],
        jetstream=js,
        default_permissions=permission_spec(kw),
        signing_keys=split_list(kw["sk"]),
        rm_signing_keys=split_list(kw["rm_sk"]),
        description=kw["description"],
        info_url=kw["info_url"],
        tags=kw["tags"],
        rm_tags=kw["rm_tags"],
        start=optional_time(start, now),
        expiry=optional_time(expiry, now),
        trace_subject=kw["trace_context_subject"],
        trace_sampling=kw["trace_context_sampling"],
        cluster_traffic=kw["host_cluster_traffic"],
        wildcard_exports=kw["wildcard_exports"],
        disallow_bearer=kw["disallow_bearer"],
        **{dest: kw[dest] for _, dest, _ in _LIMITS},
    )
    report(edit_account(ws, spec), as_json)
