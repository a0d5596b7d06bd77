"""`nscpy tool pub|sub|req|reply`: try a stored user's permissions against a real server."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.params import spec_from
from nscpy.commands.resolver_options import tls_options

if TYPE_CHECKING:
    from nscpy import resolver
    from nscpy.actions.tool import Received

F = TypeVar("F", bound=Callable[..., Any])


def client_options(f: F) -> F:
    """--nats, -a, -u and the TLS flags."""
    f = tls_options(f)
    f = click.option("-u", "--user", help="User to connect as (default: the account's only one).")(
        f
    )
    f = click.option("-a", "--account", help="Account of the user (default: current).")(f)
    f = click.option("--nats", "url", help="Server URL (default: the operator's service URLs).")(f)
    return f


def _options(app: AppContext, kw: dict[str, Any]) -> resolver.ConnectOptions:
    """Who connects where: the client_options flags, by name, are ToolSpec's fields."""
    from nscpy.actions.tool import ToolSpec, user_options

    return user_options(app.workspace, spec_from(ToolSpec, kw))


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _show(msg: Received) -> None:
    click.echo(f"[#{msg.number}] received on [{msg.subject}]: {_text(msg.data)!r}")


def _ready(subject: str, queue: str) -> Callable[[], None]:
    where = f"[{subject}]" + (f" in queue {queue!r}" if queue else "")
    # on stderr, so stdout holds only messages; scripts wait for this line before publishing
    return lambda: click.echo(f"listening on {where}", err=True)


def _serve(
    app: AppContext,
    kw: dict[str, Any],
    subject: str,
    queue: str,
    max_messages: int | None,
    timeout: float | None,
    counted: tuple[str, str],
    response: bytes | None = None,
    answer: bool = False,
) -> None:
    """Run sub or reply until a bound is reached, then say how many (verb, noun) on stderr."""
    import asyncio

    from nscpy.actions.tool import serve

    opts = _options(app, kw)
    got = asyncio.run(
        serve(
            opts,
            subject,
            queue=queue,
            answer=answer,
            response=response,
            max_messages=max_messages,
            timeout=timeout,
            on_ready=_ready(subject, queue),
            on_message=_show,
        )
    )
    verb, noun = counted
    click.echo(f"{verb} {got} {noun}{'s' if got != 1 else ''}", err=True)


def _limits(f: F) -> F:
    f = click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help="Stop after this many seconds (default: run until interrupted).",
    )(f)
    f = click.option(
        "--max-messages",
        type=click.IntRange(min=1),
        default=None,
        help="Stop after this many messages.",
    )(f)
    f = click.option("-q", "--queue", default="", help="Join this queue group.")(f)
    return f


@click.command("pub")
@click.argument("subject")
@click.argument("message", required=False, default="")
@client_options
@pass_app
def pub(app: AppContext, /, subject: str, message: str, **kw: Any) -> None:
    """Publish MESSAGE (default empty) to SUBJECT as the user.

    \b
    Examples:
      nscpy tool pub -a ORDERS -u alice orders.new 'hello'
      nscpy pub --nats nats://127.0.0.1:4222 orders.new   # nsc's root alias
    """
    import asyncio

    from nscpy.actions.tool import publish

    asyncio.run(publish(_options(app, kw), subject, message.encode()))
    click.echo(f"published [{subject}]: {message!r}")


@click.command("sub")
@click.argument("subject")
@_limits
@client_options
@pass_app
def sub(
    app: AppContext,
    /,
    subject: str,
    queue: str,
    max_messages: int | None,
    timeout: float | None,
    **kw: Any,
) -> None:
    """Print messages on SUBJECT until --max-messages or --timeout (or Ctrl-C).

    \b
    Examples:
      nscpy tool sub -a ORDERS -u bob 'orders.>'
      nscpy tool sub orders.new --max-messages 1 --timeout 5
    """
    _serve(app, kw, subject, queue, max_messages, timeout, ("received", "message"))


@click.command("req")
@click.argument("subject")
@click.argument("message", required=False, default="")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    help="Seconds to wait for the reply.",
)
@client_options
@pass_app
def req(app: AppContext, /, subject: str, message: str, timeout: float, **kw: Any) -> None:
    """Send a request to SUBJECT and print the reply.

    \b
    Examples:
      nscpy tool req -a ORDERS -u alice orders.status
      nscpy tool req orders.status ping --timeout 2
    """
    import asyncio

    from nscpy.actions.tool import request

    data = asyncio.run(request(_options(app, kw), subject, message.encode(), timeout))
    click.echo(f"received reply on [{subject}]: {_text(data)!r}")


@click.command("reply")
@click.argument("subject")
@click.argument("response", required=False, default="")
@_limits
@client_options
@pass_app
def reply(
    app: AppContext,
    /,
    subject: str,
    response: str,
    queue: str,
    max_messages: int | None,
    timeout: float | None,
    **kw: Any,
) -> None:
    """Answer requests on SUBJECT with RESPONSE (default: echo each request).

    \b
    Examples:
      nscpy tool reply -a ORDERS -u svc orders.status ok
      nscpy tool reply orders.status --queue workers --max-messages 1
    """
    payload = response.encode() if response else None
    counted = ("answered", "request")
    _serve(app, kw, subject, queue, max_messages, timeout, counted, payload, answer=True)
