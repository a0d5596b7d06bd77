"""The `nscpy` command tree and its single error-translation point.

Where a command lives: `nscpy GROUP SUB` is in the module named GROUP (`delete import` in
delete.py, `generate creds` in generate.py) and a root command `nscpy CMD` in CMD.py (init.py,
env.py, push.py, pull.py); edit's subcommands are big enough for one file each, edit_SUB.py
(edit_signing_key.py), as in nscpy/actions. `import` is import_.py (a keyword). Modules without
a command: cli, lazy (the lazy group), entry and fastpath (the click-free describe), context,
params (parameter types and shared flag groups), resolver_options, output, reporting,
nsc_tables and describe_text (what describe prints). tests/commands/test_help.py checks the rule.

Exit codes: 0 success, 1 failure (any NscError or a refused operation), 2 bad usage (Click's own).
Errors are one line on stderr; a traceback is shown only with NSCPY_DEBUG=1.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click

from nscpy import __version__
from nscpy.commands.lazy import LazyGroup
from nscpy.errors import NscError


@click.group(
    cls=LazyGroup,
    lazy={
        "nkey": "nscpy.commands.generate:generate_nkey",
        "creds": "nscpy.commands.generate:generate_creds",
        "config": "nscpy.commands.generate:generate_config",
        "activation": "nscpy.commands.generate:generate_activation",
        "diagram": "nscpy.commands.generate:diagram",
    },
    name="generate",
)
def generate() -> None:
    """Generate keys, creds and server configuration.

    \b
    Examples:
      nscpy generate creds -a ORDERS -n alice -o alice.creds
      nscpy generate config --nats-resolver --config-file server.conf
    """


@click.group(
    cls=LazyGroup,
    lazy={
        "jwt": "nscpy.commands.describe:describe_jwt",
        "operator": "nscpy.commands.describe:describe_operator",
        "account": "nscpy.commands.describe:describe_account",
        "user": "nscpy.commands.describe:describe_user",
    },
)
def describe() -> None:
    """Describe operators, accounts, users and JWTs.

    \b
    Examples:
      nscpy describe account ORDERS
      nscpy describe user -a ORDERS alice --json
    """


@click.group(
    cls=LazyGroup,
    lazy={
        "operator": "nscpy.commands.add:add_operator",
        "account": "nscpy.commands.add:add_account",
        "user": "nscpy.commands.add:add_user",
        "export": "nscpy.commands.add:add_export",
        "import": "nscpy.commands.add:add_import",
        "mapping": "nscpy.commands.add:add_mapping",
    },
)
def add() -> None:
    """Add operators, accounts and users.

    \b
    Examples:
      nscpy add account -n ORDERS
      nscpy add user -a ORDERS -n alice --allow-pub 'orders.>'
    """


@click.group(
    "list",
    cls=LazyGroup,
    lazy={
        "operators": "nscpy.commands.list:list_operators",
        "accounts": "nscpy.commands.list:list_accounts",
        "users": "nscpy.commands.list:list_users",
        "keys": "nscpy.commands.list:list_keys",
    },
    aliases={"operator": "operators", "account": "accounts", "user": "users", "key": "keys"},
)
def list_group() -> None:
    """List operators, accounts, users or keys (on stdout; --json for scripts).

    \b
    Examples:
      nscpy list accounts
      nscpy list users -a ORDERS --json
    """


@click.group(
    cls=LazyGroup,
    lazy={
        "env": "nscpy.commands.env:env",
        "select": "nscpy.commands.select:select",
        "init": "nscpy.commands.init:init",
        "server": "nscpy.commands.server:server",
        "validate": "nscpy.commands.validate:validate",
        "expirations": "nscpy.commands.expirations:expirations",
        "push": "nscpy.commands.push:push",
        "pull": "nscpy.commands.pull:pull",
        "plan": "nscpy.commands.plan:plan",
        "apply": "nscpy.commands.apply:apply",
        "account-server": "nscpy.commands.account_server:account_server",
        "store": "nscpy.commands.store:store",
        "log": "nscpy.commands.log:log",
    },
    # nsc's hidden root aliases of `tool pub|sub|req|reply`
    aliases={
        "pub": "nscpy.commands.tool:pub",
        "sub": "nscpy.commands.tool:sub",
        "req": "nscpy.commands.tool:req",
        "reply": "nscpy.commands.tool:reply",
        "create": "add",
        "tools": "tool",  # the streams page spells it `nsc tools sub`
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "--version", "-v", prog_name="nscpy")
@click.option("--config-dir", envvar="NSCPY_CONFIG_DIR", help="Directory holding nsc.json.")
@click.option("--data-dir", envvar="NSCPY_DATA_DIR", help="Data store (operators' JWTs).")
@click.option("--keystore-dir", envvar="NSCPY_KEYSTORE_DIR", help="Keystore (seeds, creds).")
@click.option("-H", "--all-dirs", help="Use this one directory for config, data and keys.")
@click.option(
    "--keyring/--no-keyring",
    default=None,
    help="Keep seeds in the OS keyring (default: NSCPY_KEYRING, else files).",
)
@click.option("-i", "--interactive", is_flag=True, help="Allow prompts (never by default).")
@click.option(
    "--store",
    envvar="NSCPY_STORE",
    metavar="URL",
    help="Shared data store: nats://HOST:PORT[,...]?bucket=NAME (a JetStream KV bucket).",
)
@click.option("--store-creds", envvar="NSCPY_STORE_CREDS", help="Creds file for --store.")
@click.option(
    "--store-ca-cert", "store_ca_file", help="CA of the --store servers' certificates (NATS_CA)."
)
@click.option(
    "--store-client-cert", "store_cert_file", help="Client certificate for --store (NATS_CERT)."
)
@click.option("--store-client-key", "store_key_file", help="Client key for --store (NATS_KEY).")
@click.option("--store-tls-first", is_flag=True, help="TLS handshake first with --store.")
@click.pass_context
def cli(
    ctx: click.Context,
    config_dir: str | None,
    data_dir: str | None,
    keystore_dir: str | None,
    all_dirs: str | None,
    keyring: bool | None,
    interactive: bool,
    store: str | None,
    store_creds: str | None,
    store_ca_file: str | None,
    store_cert_file: str | None,
    store_key_file: str | None,
    store_tls_first: bool,
) -> None:
    """nscpy: NATS decentralized security (operators, accounts, users, NKeys, JWTs).

    \b
    Examples:
      nscpy init -n acme
      nscpy -H ./nsc list accounts
      nscpy add user -a ACME -n alice
    """
    from nscpy.commands.context import AppContext

    store_options = {
        "creds": store_creds,
        "ca_file": store_ca_file,
        "cert_file": store_cert_file,
        "key_file": store_key_file,
        "tls_first": store_tls_first,
    }
    if not store and any(store_options.values()):
        raise click.UsageError("--store-creds and the --store-* TLS options need --store")
    ctx.obj = AppContext(
        config_dir,
        data_dir,
        keystore_dir,
        all_dirs,
        keyring,
        interactive,
        store=store,
        store_options=store_options,
    )


@click.group(
    cls=LazyGroup,
    lazy={
        "user": "nscpy.commands.delete:delete_user",
        "account": "nscpy.commands.delete:delete_account",
        "export": "nscpy.commands.delete:delete_export",
        "import": "nscpy.commands.delete:delete_import",
        "mapping": "nscpy.commands.delete:delete_mapping",
    },
)
def delete() -> None:
    """Delete users or accounts (revoking, removing seeds and creds on request).

    \b
    Examples:
      nscpy delete user -a ORDERS alice
      nscpy delete account ORDERS -D -C
    """


@click.group(
    "import",
    cls=LazyGroup,
    lazy={
        "keys": "nscpy.commands.import_:import_keys",
        "account": "nscpy.commands.import_:import_account",
        "user": "nscpy.commands.import_:import_user",
    },
)
def import_group() -> None:
    """Import seeds, account JWTs or user JWTs/creds into the store.

    \b
    Examples:
      nscpy import keys -d backup
      nscpy import account -f orders.jwt
    """


@click.group(
    "export",
    cls=LazyGroup,
    lazy={
        "keys": "nscpy.commands.export:export_keys",
        "spec": "nscpy.commands.export:export_spec",
    },
)
def export_group() -> None:
    """Export seeds (and JWTs) to a directory, or the store as a spec.

    \b
    Examples:
      nscpy export keys -d backup --all
      nscpy export spec -o store.toml
    """


for _group in (generate, describe, add, list_group, delete, import_group, export_group):
    cli.add_command(_group)


@click.group(
    cls=LazyGroup,
    lazy={
        "operator": "nscpy.commands.edit_operator:edit_operator",
        "account": "nscpy.commands.edit_account:edit_account",
        "user": "nscpy.commands.edit_user:edit_user",
        "signing-key": "nscpy.commands.edit_signing_key:edit_signing_key",
        "export": "nscpy.commands.edit_export:edit_export",
        "authcallout": "nscpy.commands.edit_authcallout:edit_authcallout",
    },
)
def edit() -> None:
    """Edit operators, accounts, users, signing keys, exports and auth callout.

    \b
    Examples:
      nscpy edit account ORDERS --conns 100
      nscpy edit user -a ORDERS alice --allow-pub 'orders.>'
    """


@click.group(cls=LazyGroup, lazy={"user": "nscpy.commands.revoke:revoke_user"})
def revoke() -> None:
    """Revoke users (shorthand for 'revocations add-user').

    \b
    Examples:
      nscpy revoke user -a ORDERS alice
    """


@click.group(
    cls=LazyGroup,
    lazy={
        "add-user": "nscpy.commands.revocations:add_user",
        "delete-user": "nscpy.commands.revocations:delete_user",
        "list-users": "nscpy.commands.revocations:list_users",
        "add-activation": "nscpy.commands.revocations:add_activation",
        "delete-activation": "nscpy.commands.revocations:delete_activation",
        "list-activations": "nscpy.commands.revocations:list_activations",
    },
)
def revocations() -> None:
    """Revoke users and activations (kept in the account JWT).

    \b
    Examples:
      nscpy revocations add-user -a ORDERS alice
      nscpy revocations list-users -a ORDERS
    """


@click.group(cls=LazyGroup, lazy={"operator": "nscpy.commands.reissue:reissue_operator"})
def reissue() -> None:
    """Give an operator a new identity key.

    \b
    Examples:
      nscpy reissue operator --convert-to-signing-key
    """


@click.group(cls=LazyGroup, lazy={"users": "nscpy.commands.renew:renew_users"})
def renew() -> None:
    """Renew user JWTs before they expire (same key, same claims, new expiry).

    \b
    Examples:
      nscpy renew users --within 7d --dry-run
    """


@click.group(
    cls=LazyGroup,
    lazy={
        "signing-key": "nscpy.commands.rotate:signing_key",
        "operator-signing-key": "nscpy.commands.rotate:operator_signing_key",
    },
)
def rotate() -> None:
    """Rotate account or operator signing keys in phases, without downtime.

    \b
    Examples:
      nscpy rotate signing-key start -a ORDERS --key ADKB...
      nscpy rotate signing-key finish -a ORDERS -u nats://127.0.0.1:4222
    """


for _group in (edit, revoke, revocations, reissue, renew, rotate):
    cli.add_command(_group)


@click.group(
    cls=LazyGroup,
    lazy={
        "pub": "nscpy.commands.tool:pub",
        "sub": "nscpy.commands.tool:sub",
        "req": "nscpy.commands.tool:req",
        "reply": "nscpy.commands.tool:reply",
    },
)
def tool() -> None:
    """Publish, subscribe, request and reply as a stored user (try its permissions).

    \b
    Examples:
      nscpy tool pub -a ORDERS -u alice orders.new hello
      nscpy tool sub -a ORDERS -u bob 'orders.>'
    """


cli.add_command(tool)


@click.group(cls=LazyGroup, lazy={"serve": "nscpy.commands.callout:serve"})
def callout() -> None:
    """Auth callout: run a service that decides who may connect (nscpy.callout).

    \b
    Examples:
      nscpy callout serve -u nats://127.0.0.1:4222 --creds auth.creds --map users.toml
    """


cli.add_command(callout)


def _fail(message: str, code: int = 1) -> NoReturn:
    from nscpy.redact import redact_seeds

    click.echo(f"nscpy: error: {redact_seeds(message)}", err=True)
    sys.exit(code)


def _traceback(exc: BaseException) -> NoReturn:
    """NSCPY_DEBUG's traceback, with seeds scrubbed like every other message (exit 1)."""
    import traceback

    from nscpy.redact import redact_seeds

    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    sys.stderr.write(redact_seeds(text))
    sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI; every error is one line on stderr.

    Exit codes: 0 success, 1 failure, 2 bad usage. NSCPY_DEBUG=1 shows tracebacks instead.
    Everything printed here goes through nscpy.redact: no message shows what looks like a seed.
    """
    debug = bool(os.environ.get("NSCPY_DEBUG"))
    try:
        rc = cli.main(args=argv, prog_name="nscpy", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted")
    except click.UsageError as exc:
        # one line like every other error (Click's default adds a usage line and a hint line)
        where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
        _fail(exc.format_message().replace("\n", " ") + where, exc.exit_code)
    except click.ClickException as exc:
        _fail(exc.format_message().replace("\n", " "), exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except (NscError, OSError, ValueError) as exc:
        if debug:
            _traceback(exc)
        _fail(str(exc).replace("\n", " "))
    except Exception as exc:  # the promise is "never a traceback": say what broke, in one line
        if debug:
            _traceback(exc)
        _fail(f"internal error {type(exc).__name__}: {exc} (NSCPY_DEBUG=1 shows a traceback)")
    # with standalone_mode=False, ctx.exit(n) comes back as the return value
    sys.exit(rc if isinstance(rc, int) else 0)
