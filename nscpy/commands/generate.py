"""`nscpy generate nkey|creds|config|activation|diagram`: keys, creds and configuration."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import emit_json, output_path
from nscpy.commands.params import KEY, resolve_time, start_expiry_options

F = TypeVar("F", bound=Callable[..., Any])

# --store keeps the seed in the keystore: only the roles nsc's keystore holds
_STORABLE = ("operator", "account", "user", "curve")


@click.command("nkey")
@click.option("-o", "--operator", "role", flag_value="operator", help="An operator key (O).")
@click.option("-a", "--account", "role", flag_value="account", help="An account key (A).")
@click.option("-u", "--user", "role", flag_value="user", help="A user key (U).")
@click.option("--server", "role", flag_value="server", help="A server key (N).")
@click.option("--cluster", "role", flag_value="cluster", help="A cluster key (C).")
@click.option("-x", "--curve", "role", flag_value="curve", help="A curve (x25519) key (X).")
@click.option(
    "-S", "--store", is_flag=True, help="Also keep the seed in the keystore (as nsc does)."
)
@click.option("--json", "as_json", is_flag=True, help="Print {role, public_key, seed} as JSON.")
@pass_app
def generate_nkey(app: AppContext, /, role: str | None, store: bool, as_json: bool) -> None:
    """Generate a new NKey; prints the seed (a secret) and then the public key on stdout.

    \b
    Examples:
      nscpy generate nkey --account --store   # then: nscpy edit account --sk <the public key>
    """
    if role is None:
        raise click.UsageError(
            "choose a role: --operator, --account, --user, --server, --cluster or --curve"
        )
    if store and role not in _STORABLE:
        raise click.UsageError(f"--store keeps operator, account, user or curve keys, not {role}")
    from nscpy import keys

    pair = keys.create(keys.Prefix.from_name(role))
    where = _store(app, pair.seed) if store else None
    if as_json:
        found = {"role": role, "public_key": pair.public_key, "seed": pair.seed}
        emit_json({**found, "stored": where} if store else found)
        return
    click.echo(pair.seed)
    click.echo(pair.public_key)
    if where is not None:
        # nsc's third line: "<role> key stored <path>"
        click.echo(f"{role} key stored {where}")


def _store(app: AppContext, seed: str) -> str:
    """Keep the seed; say where (a path, or the keyring)."""
    from nscpy.actions.keyfiles import store_seed

    return store_seed(app.workspace, seed)


@click.command("creds")
@click.option("-a", "--account", help="Account (default: current).")
@click.option("-n", "--name", "user", required=True, help="User name.")
@click.option("-o", "--output-file", help="Write here (mode 0600); '--' or none: stdout.")
@pass_app
def generate_creds(
    app: AppContext, /, account: str | None, user: str, output_file: str | None
) -> None:
    """Print (or write) a user's creds file: its JWT and seed. This prints a secret.

    \b
    Examples:
      nscpy generate creds -a ORDERS -n alice -o alice.creds
    """
    from nscpy.actions.users import creds_text

    text = creds_text(app.workspace, account, user)
    path = output_path(output_file)
    if path is not None:
        from nscpy.store.atomic import write_output

        write_output(path, text)
        click.echo(f"[ OK ] wrote creds {output_file}", err=True)
    else:
        click.echo(text, nl=False)


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
    """Write a server config usable directly with `nats-server -c`.

    \b
    Examples:
      nscpy generate config --nats-resolver --config-file server.conf
      nscpy generate config --mem-resolver --sys-account SYS
    """
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
    """Sign an activation token that lets one account import a private export.

    \b
    Examples:
      nscpy generate activation -a ORDERS -s orders.status -t SHIPPING -o shipping.jwt
      nscpy generate activation -a ORDERS -s orders.status -t ADKB... --expiry 30d
    """
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


def _diagram_options(f: F) -> F:
    """--format and -o, shared by both diagrams."""
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(["plantuml", "mermaid", "dot"]),
        default="plantuml",
        show_default=True,
        help="PlantUML (nsc's), Mermaid (renders on GitHub) or Graphviz DOT.",
    )(f)
    return click.option(
        "-o", "--output-file", default="--", help="Write here; '--' (default) is stdout."
    )(f)


def _emit(app: AppContext, graph: Any, fmt: str, output_file: str) -> None:

    from nscpy.actions.diagram import render

    text = render(graph, fmt, app.workspace)
    path = output_path(output_file)
    if path is None:
        click.echo(text, nl=False)
        return
    from nscpy.store.atomic import write_output

    write_output(path, text)  # a pipe or /dev/stdout is written into
    click.echo(f"[ OK ] wrote {fmt} diagram {output_file}", err=True)


@click.group("diagram")
def diagram() -> None:
    """Draw the store: accounts with their exports and imports, or who signed whom.

    \b
    Examples:
      nscpy generate diagram component -o store.puml
      nscpy generate diagram object --users --format mermaid
    """


@diagram.command("component")
@click.option("--detail", is_flag=True, hidden=True, expose_value=False)
@_diagram_options
@pass_app
def component(app: AppContext, /, fmt: str, output_file: str) -> None:
    """Accounts, their exports, and the imports that use them.

    \b
    Examples:
      nscpy generate diagram component -o store.puml
      nscpy generate diagram component --format mermaid
    """
    from nscpy.actions.diagram import component_graph

    _emit(app, component_graph(app.workspace), fmt, output_file)


@diagram.command("object")
@click.option("--users", is_flag=True, help="Include users.")
@click.option("--show-keys", is_flag=True, help="Include keys and whether seeds are stored.")
@click.option("--detail", is_flag=True, hidden=True, expose_value=False)
@_diagram_options
@pass_app
def object_(app: AppContext, /, users: bool, show_keys: bool, fmt: str, output_file: str) -> None:
    """The operator, its accounts (and users), and who signed whom.

    \b
    Examples:
      nscpy generate diagram object --users --format dot | dot -Tsvg > store.svg
    """
    from nscpy.actions.diagram import object_graph

    _emit(app, object_graph(app.workspace, users=users, show_keys=show_keys), fmt, output_file)
