"""`nscpy revocations add-user|delete-user|list-users` and `add|delete|list-activation(s)`."""

from __future__ import annotations

from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import emit_json
from nscpy.commands.params import KEY
from nscpy.commands.reporting import json_option
from nscpy.values import InvalidValue, parse_at


class AtType(click.ParamType[Any, Any]):
    """--at: 0 (now), Unix seconds or RFC 3339; kept as text until the clock is known."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            parse_at(str(value), 0)
        except InvalidValue as exc:
            self.fail(str(exc), param, ctx)
        return str(value)


AT = AtType()


def _at(text: str | None, now: int) -> int | None:
    return None if text is None else parse_at(text, now)


def _fmt(ts: int) -> str:
    from nscpy.actions.describe import fmt_time

    return fmt_time(ts) or "0"


def _user_target(name: str | None, user_public_key: str | None, target: str | None) -> str | None:
    given = [v for v in (name, user_public_key, target) if v]
    if len(set(given)) > 1:
        raise click.UsageError("give the user once: -n NAME, -u PUBKEY|'*', or an argument")
    return given[0] if given else None


def _show(rev: Any, verb: str, as_json: bool) -> None:
    if as_json:
        emit_json(rev.to_json())
        return
    who = "all users" if rev.public_key == "*" else (rev.name or rev.public_key)
    click.echo(f"[ OK ] {verb} {who} ({rev.public_key}) issued at or before {_fmt(rev.at)}")


def user_command(name: str, verb: str, help_text: str, *, with_at: bool) -> click.Command:
    """A revoke-a-user command (revoke user, revocations add-user|delete-user)."""

    @click.argument("target", required=False, metavar="[USER|PUBKEY|*]")
    @click.option("-a", "--account", help="Account name or public key (default: current).")
    @click.option("-n", "--name", help="Local user name.")
    @click.option("-u", "--user-public-key", help="User public key, '*' or a local user name.")
    @click.option(
        "-K", "--private-key", "signer", type=KEY, help="Operator key to sign the account with."
    )
    @click.option(
        "--adopt", is_flag=True, help="Re-sign even if another operator issued the account JWT."
    )
    @json_option
    @pass_app
    def command(
        app: AppContext,
        /,
        target: str | None,
        account: str | None,
        name: str | None,
        user_public_key: str | None,
        signer: str | None,
        adopt: bool,
        as_json: bool,
        at: str | None = None,
    ) -> None:
        from nscpy.actions import revocations

        ws = app.workspace
        who = _user_target(name, user_public_key, target)
        if with_at:
            when = _at(at, ws.now())
            rev = revocations.revoke_user(ws, account, who, when, signer=signer, adopt=adopt)
        else:
            rev = revocations.clear_user_revocation(ws, account, who, signer=signer, adopt=adopt)
        _show(rev, verb, as_json)

    if with_at:
        command = click.option(
            "--at", type=AT, default=None, help="Cut-off: 0 = now, Unix s, RFC 3339."
        )(command)
    return click.command(name, help=help_text)(command)


add_user = user_command(
    "add-user",
    "revoked",
    """Revoke a user (or '*' for all users) issued at or before --at.

    \b
    Examples:
      nscpy revocations add-user -a ORDERS alice
      nscpy revocations add-user -a ORDERS '*' --at 0
    """,
    with_at=True,
)


delete_user = user_command(
    "delete-user",
    "removed the revocation of",
    """Remove a user revocation entry.

    \b
    Examples:
      nscpy revocations delete-user -a ORDERS alice
    """,
    with_at=False,
)


@click.command("list-users")
@click.option("-a", "--account", help="Account name or public key (default: current).")
@json_option
@pass_app
def list_users(app: AppContext, /, account: str | None, as_json: bool) -> None:
    """List the account's revoked user keys and cut-off times.

    \b
    Examples:
      nscpy revocations list-users -a ORDERS
    """
    from nscpy.actions.revocations import list_user_revocations

    ws = app.workspace
    found = list_user_revocations(ws, account)
    if as_json:
        emit_json([r.to_json() for r in found])
        return
    if not found:
        click.echo("no revocations")
        return
    name = ws.account_name(ws.operator_name(), account)
    click.echo(_revoked_table(f"Revoked Users for {name}", "[All Users]", found))


def _revoked_table(title: str, everyone: str, found: Any) -> str:
    """nsc's revocation table: keys and 'Revoke Credentials Before' in RFC 1123 (UTC)."""
    import email.utils

    from nscpy.commands.output import boxed

    rows = [
        (
            f"* {everyone}" if r.public_key == "*" else r.public_key,
            email.utils.formatdate(r.at, usegmt=True).replace("GMT", "UTC"),
        )
        for r in found
    ]
    return boxed(title, rows, ["Public Key", "Revoke Credentials Before"])


def _export_options(f: Any) -> Any:
    """-a, -s and --service/--stream: which export (all activation commands)."""
    f = click.option("--service/--stream", default=None, help="Kind of export (when ambiguous).")(f)
    f = click.option("-s", "--subject", required=True, help="The export's subject.")(f)
    return click.option("-a", "--account", help="Exporting account (default: current).")(f)


def _activation_options(f: Any) -> Any:
    """The export, -K and -t: what add- and delete-activation change."""
    f = click.option(
        "-t", "--target-account", required=True, help="Importing account, key, or '*'."
    )(f)
    f = click.option(
        "-K", "--private-key", "signer", type=KEY, help="Operator key to sign the account."
    )(f)
    return _export_options(f)


@click.command("add-activation")
@_activation_options
@click.option("--at", type=AT, default=None, help="Cut-off: 0 = now, Unix s, RFC 3339.")
@json_option
@pass_app
def add_activation(
    app: AppContext,
    /,
    account: str | None,
    subject: str,
    service: bool | None,
    signer: str | None,
    target_account: str,
    at: str | None,
    as_json: bool,
) -> None:
    """Revoke an importing account's activations for a private export.

    \b
    Examples:
      nscpy revocations add-activation -a ORDERS -s orders.status -t SHIPPING
    """
    from nscpy.actions.revocations import revoke_activation

    ws = app.workspace
    rev = revoke_activation(
        ws, account, subject, target_account, _at(at, ws.now()), service=service, signer=signer
    )
    _show_activation(rev, "revoked activations of", as_json)


@click.command("delete-activation")
@_activation_options
@json_option
@pass_app
def delete_activation(
    app: AppContext,
    /,
    account: str | None,
    subject: str,
    service: bool | None,
    signer: str | None,
    target_account: str,
    as_json: bool,
) -> None:
    """Remove an activation revocation entry.

    \b
    Examples:
      nscpy revocations delete-activation -a ORDERS -s orders.status -t SHIPPING
    """
    from nscpy.actions.revocations import clear_activation_revocation

    rev = clear_activation_revocation(
        app.workspace, account, subject, target_account, service=service, signer=signer
    )
    _show_activation(rev, "removed the activation revocation of", as_json)


def _show_activation(rev: Any, verb: str, as_json: bool) -> None:
    if as_json:
        emit_json(rev.to_json())
        return
    who = "all accounts" if rev.public_key == "*" else rev.public_key
    click.echo(f"[ OK ] {verb} {who} issued at or before {_fmt(rev.at)}")


@click.command("list-activations")
@click.option("--service/--stream", default=None, help="Only service (or stream) exports.")
@click.option("-s", "--subject", help="The export's subject (default: every export).")
@click.option("-a", "--account", help="Exporting account (default: current).")
@json_option
@pass_app
def list_activations(
    app: AppContext,
    /,
    account: str | None,
    subject: str | None,
    service: bool | None,
    as_json: bool,
) -> None:
    """List the activation revocations of an export (or, without -s, of every export).

    \b
    Examples:
      nscpy revocations list-activations -a A -s 'svc.>'
    """
    from nscpy.actions.revocations import list_export_revocations

    found = list_export_revocations(app.workspace, account, subject, service=service)
    if as_json:
        if subject is not None:
            emit_json([r.to_json() for r in found[0][1]])
        else:
            emit_json(
                [
                    {
                        "subject": e.subject,
                        "service": e.is_service(),
                        "revocations": [r.to_json() for r in revs],
                    }
                    for e, revs in found
                ]
            )
        return
    tables = [
        _revoked_table(
            f"Revoked Accounts for {e.type} {e.name or e.subject}", "[All Accounts]", revs
        )
        for e, revs in found
        if revs
    ]
    click.echo("\n".join(tables) if tables else "no revocations")
