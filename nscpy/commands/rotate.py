"""`nscpy rotate signing-key|operator-signing-key start|push|finish|emergency`.

Each phase is a command of its own, so a flag a phase does not use is refused (start never
pushes, so it takes no server flags).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import spec_from
from nscpy.commands.reporting import json_option
from nscpy.commands.resolver_options import resolver_options

if TYPE_CHECKING:
    from nscpy.actions.connection import Connection
    from nscpy.actions.rotate import RotateSpec
    from nscpy.actions.rotate_operator import OperatorRotateSpec
    from nscpy.actions.rotation import RotationReport

F = TypeVar("F", bound=Callable[..., Any])

_LABELS = {"ok": "[ OK ]", "warn": "[WARN]", "error": "[ERR ]"}


def _print(report: RotationReport, as_json: bool) -> None:
    """The report as [ OK ] lines (or JSON); exit 1 after printing if the push failed."""
    if as_json:
        from nscpy.commands.output import emit_json

        emit_json(report.to_json())
    else:
        click.echo(
            f"[ OK ] {report.command} {report.phase}: {report.subject_name} "
            f"{report.old_key} -> {report.new_key} ({report.state})"
        )
        for t in report.touched:
            click.echo(f"[ OK ] {t.kind} {t.name!r} ({t.public_key}): {t.change}")
        for line in (report.push or {}).get("lines", []):
            level = line["level"]
            click.echo(f"{_LABELS[level]} {line['text']}", err=level == "error")
        for note in report.notes:
            click.echo(f"[ OK ] {note}")
    if report.error:
        from nscpy.actions.errors import ActionError

        raise ActionError(f"{report.error} (run the same command again to retry)")


def _account_options(f: F) -> F:
    f = click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")(f)
    f = click.option("--role", help="The scoped signing key to replace, by its role.")(f)
    f = click.option("--key", help="The signing key to replace (public key, seed or seed file).")(f)
    f = click.option("-a", "--account", help="Account whose key rotates (default: current).")(f)
    return f


def _operator_options(f: F) -> F:
    f = click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")(f)
    f = click.option("--key", help="The operator signing key to replace (public key or seed).")(f)
    return f


def _account_spec(kw: dict[str, Any]) -> RotateSpec:
    from nscpy.actions.rotate import RotateSpec

    return spec_from(RotateSpec, kw)


@click.command("start")
@_account_options
@json_option
@pass_app
def account_start(app: AppContext, /, as_json: bool, **kw: Any) -> None:
    """Add a new key with the old one's scope; re-sign what the old key signed (creds too).

    \b
    Examples:
      nscpy rotate signing-key start -a ORDERS --key ADKB...
      nscpy rotate signing-key start -a ORDERS --role readers --dry-run
    """
    from nscpy.actions.rotate import start

    _print(start(app.workspace, _account_spec(kw)), as_json)


@click.command("push")
@_account_options
@resolver_options
@json_option
@pass_app
def account_push(app: AppContext, /, conn: Connection, as_json: bool, **kw: Any) -> None:
    """Push the account carrying both keys: old and new creds both work.

    \b
    Examples:
      nscpy rotate signing-key push -a ORDERS -u nats://127.0.0.1:4222
    """
    from nscpy.actions.rotate import push_phase

    _print(push_phase(app.workspace, _account_spec(kw), conn), as_json)


@click.command("finish")
@_account_options
@resolver_options
@json_option
@pass_app
def account_finish(app: AppContext, /, conn: Connection, as_json: bool, **kw: Any) -> None:
    """Remove the old key and push: old creds are refused from then on.

    \b
    Examples:
      nscpy rotate signing-key finish -a ORDERS -u nats://127.0.0.1:4222
    """
    from nscpy.actions.rotate import finish

    _print(finish(app.workspace, _account_spec(kw), conn), as_json)


@click.command("emergency")
@_account_options
@resolver_options
@json_option
@pass_app
def account_emergency(app: AppContext, /, conn: Connection, as_json: bool, **kw: Any) -> None:
    """Replace the old key at once and push: the server drops the users it signed.

    \b
    Examples:
      nscpy rotate signing-key emergency -a ORDERS --key ADKB... -u nats://127.0.0.1:4222
    """
    from nscpy.actions.rotate import emergency

    _print(emergency(app.workspace, _account_spec(kw), conn), as_json)


def _operator_spec(kw: dict[str, Any]) -> OperatorRotateSpec:
    from nscpy.actions.rotate_operator import OperatorRotateSpec

    return spec_from(OperatorRotateSpec, kw)


@click.command("start")
@_operator_options
@json_option
@pass_app
def operator_start(app: AppContext, /, as_json: bool, **kw: Any) -> None:
    """Add a new operator signing key; re-sign the accounts the old one signed (then deploy
    the operator JWT to the servers).

    \b
    Examples:
      nscpy rotate operator-signing-key start --key OBKD...
      nscpy rotate operator-signing-key start --dry-run
    """
    from nscpy.actions.rotate_operator import start

    _print(start(app.workspace, _operator_spec(kw)), as_json)


@click.command("push")
@_operator_options
@resolver_options
@json_option
@pass_app
def operator_push(app: AppContext, /, conn: Connection, as_json: bool, **kw: Any) -> None:
    """Once every server trusts the new key (checked), push the re-signed accounts, SYS last.

    \b
    Examples:
      nscpy rotate operator-signing-key push -u nats://127.0.0.1:4222 --expect-servers 3
    """
    from nscpy.actions.rotate_operator import push_phase

    _print(push_phase(app.workspace, _operator_spec(kw), conn), as_json)


@click.command("finish")
@_operator_options
@resolver_options
@json_option
@pass_app
def operator_finish(app: AppContext, /, conn: Connection, as_json: bool, **kw: Any) -> None:
    """Push, then drop the old key from the operator JWT (deploy it to the servers after).

    \b
    Examples:
      nscpy rotate operator-signing-key finish -u nats://127.0.0.1:4222
    """
    from nscpy.actions.rotate_operator import finish

    _print(finish(app.workspace, _operator_spec(kw), conn), as_json)


@click.command("emergency")
@_operator_options
@resolver_options
@json_option
@pass_app
def operator_emergency(app: AppContext, /, conn: Connection, as_json: bool, **kw: Any) -> None:
    """Drop the old key and re-sign at once; push once the servers trust the new key.

    \b
    Examples:
      nscpy rotate operator-signing-key emergency --key OBKD... -u nats://127.0.0.1:4222
    """
    from nscpy.actions.rotate_operator import emergency

    _print(emergency(app.workspace, _operator_spec(kw), conn), as_json)


@click.group("signing-key")
def signing_key() -> None:
    """Rotate an account signing key: start, push, finish (or emergency: all at once).

    \b
    Examples:
      nscpy rotate signing-key start -a ORDERS --role readers
      nscpy rotate signing-key push -a ORDERS -u nats://127.0.0.1:4222
    """


@click.group("operator-signing-key")
def operator_signing_key() -> None:
    """Rotate an operator signing key (the system account included), in the same phases.

    \b
    Examples:
      nscpy rotate operator-signing-key start --key OBKD...
      nscpy rotate operator-signing-key push -u nats://127.0.0.1:4222
    """


for _command in (account_start, account_push, account_finish, account_emergency):
    signing_key.add_command(_command)
for _command in (operator_start, operator_push, operator_finish, operator_emergency):
    operator_signing_key.add_command(_command)
