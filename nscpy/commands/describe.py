"""`nscpy describe operator|account|user|jwt`: a table for people; JSON, raw or one field too."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import emit_json, long_ids_option, output_path


def describe_options(f: Any) -> Any:
    """The output switches nsc's describe commands share."""
    f = long_ids_option(f)
    f = click.option(
        "--revision",
        type=click.IntRange(1),
        default=None,
        help="With --store: the JWT as it was at this revision (see 'nscpy log').",
    )(f)
    f = click.option("-o", "--output-file", help="Write to this file instead of stdout.")(f)
    f = click.option("-F", "--field", "field_path", help="Print one field (nats.limits.conn).")(f)
    f = click.option("-R", "--raw", is_flag=True, help="Print the encoded JWT.")(f)
    f = click.option("-J", "--json", "as_json", is_flag=True, help="Print the claims as JSON.")(f)
    f = click.option("-n", "--name", "name_opt", help="Name (or public key) to describe.")(f)
    return click.argument("name_arg", required=False, metavar="[NAME]")(f)


def _write(text: str, output_file: str | None) -> None:
    path = output_path(output_file)
    if path is not None:
        from nscpy.store.atomic import write_output

        write_output(path, text if text.endswith("\n") else text + "\n")
    else:
        click.echo(text)


def _describe(kind: str) -> Callable[..., None]:
    def command(
        app: AppContext,
        /,
        name_arg: str | None,
        name_opt: str | None,
        as_json: bool,
        raw: bool,
        field_path: str | None,
        output_file: str | None,
        revision: int | None = None,
        account: str | None = None,
    ) -> None:
        from nscpy.commands.describe_text import LOADERS, render

        if revision is not None:
            from nscpy.actions.kvstore import entity_key, revision_text

            key = entity_key(app.workspace, kind, name_opt or name_arg, account)
            token = revision_text(app.workspace, revision, key)
        else:
            token = LOADERS[kind](app.workspace, name_opt or name_arg, account)
        to_file = output_path(output_file) is not None
        text = render(
            token,
            kind,
            as_json=as_json,
            raw=raw,
            field_path=field_path,
            to_file=to_file,
            ws=app.workspace,
            account=account,
        )
        _write(text, output_file)

    return command


describe_operator = click.command("operator")(describe_options(pass_app(_describe("operator"))))
describe_operator.help = """Describe the current (or named) operator.

\b
Examples:
  nscpy describe operator
  nscpy describe operator --raw -o operator.jwt
"""
describe_account = click.command("account")(describe_options(pass_app(_describe("account"))))
describe_account.help = """Describe the current (or named) account; NAME may be a public key.

\b
Examples:
  nscpy describe account ORDERS
  nscpy describe account ORDERS -F nats.limits.conn
  nscpy describe account --json
"""
describe_user = click.command("user")(
    click.option("-a", "--account", help="Account name or public key.")(
        describe_options(pass_app(_describe("user")))
    )
)
describe_user.help = """Describe a user of the current (or -a) account.

\b
Examples:
  nscpy describe user -a ORDERS alice
  nscpy describe user -a ORDERS -n alice -F nats.pub.allow
"""


@click.command("jwt")
@click.option(
    "-f", "--file", "path", required=True, help="A JWT, decorated JWT or creds file; - reads stdin."
)
@click.option("-J", "--json", "as_json", is_flag=True, help="Print claims and issues as JSON.")
@pass_app
def describe_jwt(app: AppContext, /, path: str, as_json: bool) -> None:
    """Decode any token and show its claims and validation issues; exit 1 on a bad signature.

    \b
    Examples:
      nscpy describe jwt -f alice.creds
      cat token.jwt | nscpy describe jwt -f - --json
    """
    from nscpy.actions.describe import describe_token
    from nscpy.actions.workspace import system_clock
    from nscpy.commands.nsc_tables import describe_claims

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
        click.echo(describe_claims(found.claims))
        for issue in found.issues:
            click.echo(f"[WARN] {issue}")
    if not found.signature_ok:
        click.echo(f"nscpy: error: {found.problem}", err=True)
        sys.exit(1)
