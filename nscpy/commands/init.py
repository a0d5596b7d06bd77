"""`nscpy init`: a new operator with a SYS account, or one imported from a URL or file."""

from __future__ import annotations

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.reporting import report_saved


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
