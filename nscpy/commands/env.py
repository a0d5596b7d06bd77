"""`nscpy env`: the directories and the current operator and account (nsc's table)."""

from __future__ import annotations

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import boxed, emit_json


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
    Examples:
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
