"""`nscpy describe operator|account|user|jwt`: a table for people; JSON, raw or one field too."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import emit_json, table


def describe_options(f: Any) -> Any:
    """The output switches nsc's describe commands share."""
    f = click.option("-o", "--output-file", help="Write to this file instead of stdout.")(f)
    f = click.option("-F", "--field", "field_path", help="Print one field (nats.limits.conn).")(f)
    f = click.option("-R", "--raw", is_flag=True, help="Print the encoded JWT.")(f)
    f = click.option("-J", "--json", "as_json", is_flag=True, help="Print the claims as JSON.")(f)
    f = click.option("-n", "--name", "name_opt", help="Name (or public key) to describe.")(f)
    return click.argument("name_arg", required=False, metavar="[NAME]")(f)


def _write(text: str, output_file: str | None) -> None:
    if output_file and output_file != "--":
        from nscpy.store.atomic import atomic_write

        atomic_write(Path(output_file), text if text.endswith("\n") else text + "\n")
    else:
        click.echo(text)


def _show(
    token: str, kind: str, *, as_json: bool, raw: bool, field_path: str | None, out: str | None
) -> None:
    from nscpy.actions.describe import claim_rows, field_at
    from nscpy.jwt import decode
    from nscpy.jwt.creds import format_jwt

    token = token.strip()
    claims = decode(token)
    if raw:
        _write(format_jwt(kind, token) if out and out != "--" else token, out)
    elif field_path:
        value = field_at(claims.to_json_dict(), field_path)
        _write(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False), out)
    elif as_json:
        _write(json.dumps(claims.to_json_dict(), indent=2, ensure_ascii=False), out)
    else:
        _write(table(claim_rows(claims)), out)


def _describe(load: Callable[[Any], str], kind: str) -> Callable[..., None]:
    def command(
        app: AppContext,
        /,
        name_arg: str | None,
        name_opt: str | None,
        as_json: bool,
        raw: bool,
        field_path: str | None,
        output_file: str | None,
        **extra: Any,
    ) -> None:
        token = load((app, name_opt or name_arg, extra))
        _show(token, kind, as_json=as_json, raw=raw, field_path=field_path, out=output_file)

    return command


def _operator_token(args: Any) -> str:
    app, name, _ = args
    ws = app.workspace
    return str(ws.store.read_operator(ws.operator_name(name)))


def _account_token(args: Any) -> str:
    app, name, _ = args
    ws = app.workspace
    operator = ws.operator_name()
    return str(ws.store.read_account(operator, ws.account_name(operator, name)))


def _user_token(args: Any) -> str:
    from nscpy.actions.users import find_user

    app, name, extra = args
    ws = app.workspace
    operator = ws.operator_name()
    account = ws.account_name(operator, extra.get("account"))
    return str(ws.store.read_user(operator, account, find_user(ws, operator, account, name)))


describe_operator = click.command("operator")(
    describe_options(pass_app(_describe(_operator_token, "operator")))
)
describe_operator.help = "Describe the current (or named) operator."
describe_account = click.command("account")(
    describe_options(pass_app(_describe(_account_token, "account")))
)
describe_account.help = "Describe the current (or named) account; NAME may be a public key."
describe_user = click.command("user")(
    click.option("-a", "--account", help="Account name or public key.")(
        describe_options(pass_app(_describe(_user_token, "user")))
    )
)
describe_user.help = "Describe a user of the current (or -a) account."


@click.command("jwt")
@click.option(
    "-f", "--file", "path", required=True, help="A JWT, decorated JWT or creds file; - reads stdin."
)
@click.option("-J", "--json", "as_json", is_flag=True, help="Print claims and issues as JSON.")
@pass_app
def describe_jwt(app: AppContext, /, path: str, as_json: bool) -> None:
    """Decode any token and show its claims and validation issues; exit 1 on a bad signature."""
    from nscpy.actions.describe import claim_rows, describe_token
    from nscpy.actions.workspace import system_clock

    text = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8", errors="replace")
    found = describe_token(text, now=system_clock())
    if as_json:
        emit_json(
            {
                "claims": found.claims.to_json_dict(),
                "signature_valid": found.signature_ok,
                "error": found.problem or None,
                "issues": found.issues,
            }
        )
    else:
        click.echo(table(claim_rows(found.claims)))
        for issue in found.issues:
            click.echo(f"[WARN] {issue}")
    if not found.signature_ok:
        click.echo(f"nscpy: error: {found.problem}", err=True)
        sys.exit(1)
