"""`nscpy generate config`: a nats-server config file for the current operator."""

from __future__ import annotations

import os

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import output_path


@click.command("config")
@click.option("--mem-resolver", "mem", is_flag=True, help="Preload every account (MEMORY).")
@click.option("--nats-resolver", "full", is_flag=True, help="Full nats-based resolver.")
@click.option("--nats-resolver-cache", "cache", is_flag=True, help="Caching resolver.")
@click.option(
    "--auth-callout",
    "callout_mode",
    is_flag=True,
    help="Config mode (no operator): clients decided by an auth callout service.",
)
@click.option("-a", "--account", help="--auth-callout: the store account whose key issues users.")
@click.option(
    "--auth-user", default="auth", show_default=True, help="--auth-callout: service user."
)
@click.option(
    "--auth-password",
    envvar="NSCPY_CALLOUT_PASSWORD",
    help="--auth-callout: its password (or env).",
)
@click.option(
    "--callout-account", default="AUTH", show_default=True, help="Account of the service."
)
@click.option(
    "--target-account", multiple=True, help="--auth-callout: an account clients may be placed in."
)
@click.option("--sys-account", help="System account name or key (default: the operator's).")
@click.option("--config-file", help="Write here (mode 0600) instead of stdout.")
@click.option("--dir", "resolver_dir", default="./jwt", show_default=True, help="Resolver dir.")
@click.option("--allow-delete", is_flag=True, help="Full resolver: let push --prune delete.")
@click.option("-F", "--force", is_flag=True, help="Overwrite an existing --config-file.")
@pass_app
def generate_config(
    app: AppContext,
    /,
    mem: bool,
    full: bool,
    cache: bool,
    callout_mode: bool,
    sys_account: str | None,
    config_file: str | None,
    resolver_dir: str,
    allow_delete: bool,
    force: bool,
    account: str | None,
    auth_user: str,
    auth_password: str | None,
    callout_account: str,
    target_account: tuple[str, ...],
) -> None:
    """Write a server config usable directly with `nats-server -c`."""
    from nscpy.actions.serverconfig import CalloutConfigSpec
    from nscpy.actions.serverconfig import generate_config as build

    chosen = [
        k
        for k, on in (("mem", mem), ("full", full), ("cache", cache), ("callout", callout_mode))
        if on
    ]
    if len(chosen) != 1:
        # one server runs one resolver: two flags would silently mean the last one
        raise click.UsageError(
            "choose exactly one of --mem-resolver, --nats-resolver, --nats-resolver-cache or "
            "--auth-callout"
        )
    kind = chosen[0]
    callout = None
    if kind == "callout":
        if not auth_password:
            raise click.UsageError(
                "--auth-callout needs --auth-password (or NSCPY_CALLOUT_PASSWORD)"
            )
        callout = CalloutConfigSpec(
            account, auth_password, auth_user, callout_account, list(target_account)
        )
    elif account or auth_password or target_account:
        raise click.UsageError("-a, --auth-password and --target-account go with --auth-callout")
    text = build(
        app.workspace,
        kind,
        sys_account=sys_account,
        resolver_dir=resolver_dir,
        allow_delete=allow_delete,
        callout=callout,
    )
    path = output_path(config_file)
    if path is not None:
        from nscpy.store.atomic import write_output

        is_stream = os.path.abspath(path).startswith(("/dev/", "/proc/"))
        if path.is_file() and not is_stream and not force:
            raise click.ClickException(f"{config_file} exists: pass -F to overwrite it")
        write_output(path, text)
        click.echo(f"[ OK ] wrote server config {config_file}", err=True)
    else:
        click.echo(text, nl=False)
