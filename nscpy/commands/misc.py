"""`nscpy generate creds`, `env`, `select`, `init`."""

from __future__ import annotations

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import boxed, emit_json, output_path
from nscpy.commands.reporting import report_saved


@click.command("creds")
@click.option("-a", "--account", help="Account (default: current).")
@click.option("-n", "--name", "user", required=True, help="User name.")
@click.option("-o", "--output-file", help="Write here (mode 0600); '--' or none: stdout.")
@pass_app
def generate_creds(
    app: AppContext, /, account: str | None, user: str, output_file: str | None
) -> None:
    """Print (or write) a user's creds file: its JWT and seed. This prints a secret."""
    from nscpy.actions.users import creds_text

    text = creds_text(app.workspace, account, user)
    path = output_path(output_file)
    if path is not None:
        from nscpy.store.atomic import write_output

        write_output(path, text)
        click.echo(f"[ OK ] wrote creds {output_file}", err=True)
    else:
        click.echo(text, nl=False)


@click.command("env")
@click.option("-s", "--store", "store_root", help="Set (and keep) the stores directory.")
@click.option("-o", "--operator", help="Set (and keep) the current operator.")
@click.option("-a", "--account", help="Set (and keep) the current account.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_app
def env(
    app: AppContext,
    /,
    store_root: str | None,
    operator: str | None,
    account: str | None,
    as_json: bool,
) -> None:
    """Show (or, with -s/-o/-a, set) the directories and the current operator and account.

    \b
    Example:
      nscpy env -s ~/nats/stores -o ACME -a ORDERS
    """
    from nscpy.actions.workspace import set_environment

    ws = set_environment(app.workspace, store_root, operator, account)
    kv = getattr(ws.store, "kv", None)  # a KV data store (--store) names its bucket
    data = {
        "config_dir": str(ws.paths.config_dir),
        "store_root": str(ws.paths.data_dir),
        "store": kv.spec.display() if kv is not None else None,
        "keystore": str(ws.paths.keystore_dir),
        "keyring": type(ws.keystore.backend).__name__ != "FileSeedBackend",
        "operator": ws.context.operator,
        "account": ws.context.account,
        "NSC_CWD_ONLY": ws.paths.cwd_only,
        "NSC_NO_GIT_IGNORE": not ws.paths.git_ignore,
    }
    if as_json:
        emit_json(data)
        return
    # nsc's "NSC Environment" table: its labels, so scripts copied from the docs still match
    import os

    def is_set(name: str) -> str:
        return "Yes" if os.environ.get(name) else "No"

    rows: list[tuple[str, str, str] | None] = [
        ("$NKEYS_PATH", is_set("NKEYS_PATH"), str(ws.paths.keystore_dir)),
        ("$NSC_HOME", is_set("NSC_HOME"), str(ws.paths.config_dir)),
        ("$NSC_CWD_ONLY", is_set("NSC_CWD_ONLY"), "Yes" if ws.paths.cwd_only else "No"),
        ("$NSC_NO_GIT_IGNORE", is_set("NSC_NO_GIT_IGNORE"), "No" if ws.paths.git_ignore else "Yes"),
        ("Config", "", str(ws.paths.nsc_json)),
        ("Keyring", "", "Yes" if data["keyring"] else "No"),
        None,
        ("Stores Dir", "", str(ws.paths.data_dir))
        if kv is None
        else ("$NSCPY_STORE", is_set("NSCPY_STORE"), str(data["store"])),
        ("Default Operator", "", ws.context.operator),
        ("Default Account", "", ws.context.account),
    ]
    click.echo(boxed("NSC Environment", rows, ["Setting", "Set", "Effective Value"]))


@click.group("select")
def select() -> None:
    """Set the current operator or account (kept in nsc.json)."""


@select.command("operator")
@click.argument("name")
@pass_app
def select_operator(app: AppContext, /, name: str) -> None:
    """Make NAME the current operator."""
    ws = app.workspace
    ws.select(operator=ws.operator_name(name))
    click.echo(f"[ OK ] current operator is {name!r}")


@select.command("account")
@click.argument("name")
@pass_app
def select_account(app: AppContext, /, name: str) -> None:
    """Make NAME the current account."""
    ws = app.workspace
    op = ws.operator_name()
    account = ws.account_name(op, name)
    ws.select(operator=op, account=account)
    click.echo(f"[ OK ] current account is {account!r}")


@click.command("init")
@click.option("-n", "--name", default=None, help="Operator (and account and user) name [nscpy].")
@click.option("-u", "--url", help="Import the operator from this URL (or file) instead.")
@click.option("-o", "--remote-operator", help="Import the operator NSC_<NAME>_OPERATOR points at.")
@click.option("--json", "as_json", is_flag=True, help="Print what was created as JSON.")
@pass_app
def init(
    app: AppContext, /, name: str | None, url: str | None, remote_operator: str | None,
    as_json: bool,
) -> None:  # fmt: skip
    """Create an operator with a SYS account and user, plus an account and user named NAME.

    With -u/-o the operator is imported instead (its JWT only), and the account and user
    named NAME (default: the operator's name) are made for it.

    \b
    Examples:
      nscpy init -n acme
      nscpy init -u http://127.0.0.1:9090/jwt/v1/operator -n team
    """
    from nscpy.actions.init import init_from_operator, init_store

    if url and remote_operator:
        raise click.UsageError("pass either -u URL or -o NAME, not both")
    source = url or remote_operator
    if source is None:
        report_saved(init_store(app.workspace, name or "nscpy"), as_json, "added")
        return
    from nscpy.actions.account_server import fetch_operator, operator_source
    from nscpy.resolver.http import is_account_server_url

    where = operator_source(source, dict(app.workspace.env))
    if is_account_server_url(where):
        token = fetch_operator(where)
    else:
        from pathlib import Path

        token = Path(where).read_text("utf-8")
    saved = init_from_operator(app.workspace, token, name)
    report_saved(saved, as_json, "added", note_label="[WARN]")
