"""`nscpy push` and `nscpy pull`: account JWTs to and from a nats-server resolver."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import KEY
from nscpy.commands.reporting import json_option, render_report

if TYPE_CHECKING:
    from nscpy.actions.push import Connection

F = TypeVar("F", bound=Callable[..., Any])

_LABELS = {"ok": "[ OK ]", "warn": "[WARN]", "error": "[ERR ]"}


def tls_options(f: F) -> F:
    """--ca-cert, --client-cert, --client-key and --tls-first (NATS_CA/CERT/KEY otherwise)."""
    f = click.option("--tls-first", is_flag=True, help="TLS handshake before the server's INFO.")(f)
    f = click.option("--client-key", help="Client key for TLS (default: NATS_KEY).")(f)
    f = click.option("--client-cert", help="Client certificate for TLS (default: NATS_CERT).")(f)
    f = click.option("--ca-cert", help="CA that signed the server's certificate (NATS_CA).")(f)
    return f


def resolver_options(f: F) -> F:
    """The connection flags push and pull share."""
    f = tls_options(f)
    f = click.option(
        "--expect-servers",
        type=click.IntRange(1, 1000),
        default=None,
        help="Servers that must answer each request; fewer is an error (default: don't know).",
    )(f)
    f = click.option(
        "--timeout",
        type=click.FloatRange(0.1, 60),
        default=1.0,
        show_default=True,
        help="Seconds to collect every server's replies, per request.",
    )(f)
    f = click.option("--system-user", help="Connect as this stored system-account user.")(f)
    f = click.option("--system-account", help="System account name or key (default: operator's).")(
        f
    )
    f = click.option(
        "-u",
        "--account-jwt-server-url",
        "url",
        help="nats://, tls://, ws:// or wss:// URL (default: the operator's account server URL).",
    )(f)
    return f


def connection(**kw: Any) -> Connection:
    """A Connection from the resolver_options flags."""
    from nscpy.actions.push import Connection

    return Connection(
        url=kw["url"],
        system_account=kw["system_account"],
        system_user=kw["system_user"],
        ca_cert=kw["ca_cert"],
        client_cert=kw["client_cert"],
        client_key=kw["client_key"],
        tls_first=kw["tls_first"],
        timeout=kw["timeout"],
        expect=kw["expect_servers"],
    )


@click.command("push")
@click.option("-a", "--account", help="Account to push (default: current).")
@click.option("-A", "--all", "all_accounts", is_flag=True, help="Push every account.")
@click.option("-F", "--force", is_flag=True, help="Skip the validation pre-checks.")
@click.option("-D", "--diff", is_flag=True, help="List accounts that exist only on the server.")
@click.option("-P", "--prune", is_flag=True, help="Delete accounts that exist only on the server.")
@click.option("-R", "--account-removal", "remove", help="Delete this account from the server.")
@click.option(
    "-K", "--private-key", "signer", type=KEY, help="Operator key to sign a delete request."
)
@resolver_options
@json_option
@pass_app
def push(
    app: AppContext,
    /,
    account: str | None,
    all_accounts: bool,
    force: bool,
    diff: bool,
    prune: bool,
    remove: str | None,
    signer: str | None,
    as_json: bool,
    **conn: Any,
) -> None:
    """Push account JWTs to a nats-server resolver (and diff, prune or remove accounts)."""
    from nscpy.actions.push import PushSpec
    from nscpy.actions.push import push as run

    spec = PushSpec(account, all_accounts, force, diff, prune, remove, signer)
    outcome = run(app.workspace, spec, connection(**conn))
    if as_json:
        from nscpy.commands.output import emit_json

        emit_json(outcome.to_json())
    else:
        for level, text in outcome.lines():
            click.echo(f"{_LABELS[level]} {text}", err=level == "error")
    outcome.check()


@click.command("pull")
@click.option("-a", "--account", help="Account name or public key to pull (default: current).")
@click.option(
    "-A", "--all", "all_accounts", is_flag=True, help="Pull every account the server has."
)
@click.option(
    "-F", "--overwrite-newer", is_flag=True, help="Replace a local JWT even if it is newer."
)
@resolver_options
@json_option
@pass_app
def pull(
    app: AppContext,
    /,
    account: str | None,
    all_accounts: bool,
    overwrite_newer: bool,
    as_json: bool,
    **conn: Any,
) -> None:
    """Store the account JWTs a nats-server resolver holds (-A: all, via PACK; -a: LOOKUP)."""
    from nscpy.actions.pull import PullSpec
    from nscpy.actions.pull import pull as run

    report = run(
        app.workspace, PullSpec(account, all_accounts, overwrite_newer), connection(**conn)
    )
    render_report(report, as_json)
