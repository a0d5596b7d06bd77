"""`nscpy edit operator|account|authcallout` (edit user and signing-key: edit_user.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import (
    KEY,
    NUMBER,
    one_name,
    optional_time,
    permission_options,
    split_list,
    start_expiry_options,
)
from nscpy.commands.reporting import json_option, report_saved

F = TypeVar("F", bound=Callable[..., Any])


def report(saved: Any, as_json: bool, verb: str = "edited") -> None:
    """One [ OK ] line per saved entity (plus notes), or the JSON summary."""
    report_saved(saved, as_json, verb)


def optional_bool(decl: str, help_text: str) -> Callable[[F], F]:
    """A flag that may also be given a value: --flag, --flag=false (pflag bool semantics)."""
    return click.option(
        decl, type=click.BOOL, is_flag=False, flag_value=True, default=None, help=help_text
    )


def account_option(f: F) -> F:
    """-a/--account and -K/--private-key (the signer), shared by every account edit."""
    f = click.option(
        "-K", "--private-key", "signer", type=KEY, help="Key to sign with (seed/pub/file)."
    )(f)
    return click.option("-a", "--account", help="Account name or public key (default: current).")(f)


def tag_options(f: F) -> F:
    """--tag / --rm-tag."""
    f = click.option("--rm-tag", multiple=True, help="Tags to remove.")(f)
    return click.option("--tag", multiple=True, help="Tags to add (lower-cased).")(f)


def perm_spec(kw: dict[str, Any]) -> Any:
    """The PermissionSpec of the shared permission flags plus --rm/--rm-response-perms."""
    from nscpy.commands.add import permission_spec

    spec = permission_spec(kw)
    spec.remove = split_list(kw.get("rm"))
    spec.remove_response = bool(kw.get("rm_response_perms"))
    return spec


def rm_permission_options(f: F) -> F:
    """--rm SUBJECTS and --rm-response-perms, beside the permission flags."""
    f = click.option("--rm-response-perms", is_flag=True, help="Remove the response permission.")(f)
    return click.option("--rm", multiple=True, metavar="SUBJECTS", help="Subjects to remove.")(f)


@click.command("operator")
@click.option("--name", help="Operator (default: current).")
@click.option(
    "--sk", multiple=True, type=KEY, help="Add a signing key: public key, seed, file or 'generate'."
)
@click.option("--rm-sk", multiple=True, help="Remove a signing key.")
@optional_bool("--require-signing-keys", "Only signing keys may sign accounts and users.")
@click.option("--system-account", help="The system account (name or public key; '' clears).")
@click.option("-u", "--account-jwt-server-url", help="Account JWT server URL ('' clears).")
@click.option("--rm-account-jwt-server-url", is_flag=True, help="Clear the account server URL.")
@click.option(
    "-n", "--service-url", multiple=True, help="Add an operator service URL (nats://...)."
)
@click.option("--rm-service-url", multiple=True, help="Remove an operator service URL.")
@tag_options
@start_expiry_options
@json_option
@pass_app
def edit_operator(
    app: AppContext,
    /,
    name: str | None,
    sk: tuple[str, ...],
    rm_sk: tuple[str, ...],
    require_signing_keys: bool | None,
    system_account: str | None,
    account_jwt_server_url: str | None,
    rm_account_jwt_server_url: bool,
    service_url: tuple[str, ...],
    rm_service_url: tuple[str, ...],
    tag: tuple[str, ...],
    rm_tag: tuple[str, ...],
    start: str | None,
    expiry: str | None,
    as_json: bool,
) -> None:
    """Edit the operator: signing keys, strict mode, system account, URLs, tags, dates."""
    from nscpy.actions.edit_operator import OperatorEdit, edit_operator

    if rm_account_jwt_server_url:
        if account_jwt_server_url:
            raise click.UsageError("-u and --rm-account-jwt-server-url contradict each other")
        account_jwt_server_url = ""
    ws = app.workspace
    now = ws.now()
    spec = OperatorEdit(
        name=name,
        signing_keys=split_list(sk),
        rm_signing_keys=split_list(rm_sk),
        require_signing_keys=require_signing_keys,
        system_account=system_account,
        account_server_url=account_jwt_server_url,
        service_urls=split_list(service_url),
        rm_service_urls=split_list(rm_service_url),
        tags=split_list(tag),
        rm_tags=split_list(rm_tag),
        start=optional_time(start, now),
        expiry=optional_time(expiry, now),
    )
    report(edit_operator(ws, spec), as_json)


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
    """Edit an account: limits, JetStream, default permissions, signing keys, info, tracing."""
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
        default_permissions=perm_spec(kw),
        signing_keys=split_list(kw["sk"]),
        rm_signing_keys=split_list(kw["rm_sk"]),
        description=kw["description"],
        info_url=kw["info_url"],
        tags=split_list(kw["tag"]),
        rm_tags=split_list(kw["rm_tag"]),
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
    """Configure the account's auth callout."""
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
