"""The flags that say how to reach a nats-server, written once.

`tls_options`: --ca-cert, --client-cert, --client-key, --tls-first (push, pull, rotate, tool,
callout serve). `resolver_options`: -u, --system-account, --system-user, --timeout,
--expect-servers and the TLS flags, handed to the command as one `conn` argument (an
nscpy.actions.connection.Connection) -- the flags' Python names are Connection's field names,
so a flag is spelled the same from the command line to nscpy.resolver.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

# Connection's fields that resolver_options fills from flags of the same name
_FIELDS = (
    "url",
    "system_account",
    "system_user",
    "ca_file",
    "cert_file",
    "key_file",
    "tls_first",
    "timeout",
    "expect",
)


def tls_options(f: F) -> F:
    """--ca-cert, --client-cert, --client-key and --tls-first (NATS_CA/CERT/KEY otherwise)."""
    f = click.option("--tls-first", is_flag=True, help="TLS handshake before the server's INFO.")(f)
    f = click.option("--client-key", "key_file", help="Client key for TLS (default: NATS_KEY).")(f)
    f = click.option(
        "--client-cert", "cert_file", help="Client certificate for TLS (default: NATS_CERT)."
    )(f)
    return click.option(
        "--ca-cert", "ca_file", help="CA that signed the server's certificate (NATS_CA)."
    )(f)


def resolver_options(f: F) -> F:
    """The resolver connection flags, passed to the command as `conn: Connection`."""

    @functools.wraps(f)
    def command(*args: Any, **kw: Any) -> Any:
        from nscpy.actions.connection import Connection

        conn = Connection(**{name: kw.pop(name) for name in _FIELDS})
        return f(*args, conn=conn, **kw)

    wrapped: Any = tls_options(command)
    wrapped = click.option(
        "--expect-servers",
        "expect",
        type=click.IntRange(1, 1000),
        default=None,
        help="Servers that must answer each request; fewer is an error (default: don't know).",
    )(wrapped)
    wrapped = click.option(
        "--timeout",
        type=click.FloatRange(0.1, 60),
        default=1.0,
        show_default=True,
        help="Seconds to collect every server's replies, per request.",
    )(wrapped)
    wrapped = click.option("--system-user", help="Connect as this stored system-account user.")(
        wrapped
    )
    wrapped = click.option(
        "--system-account", help="System account name or key (default: operator's)."
    )(wrapped)
    wrapped = click.option(
        "-u",
        "--account-jwt-server-url",
        "url",
        help="nats://, tls://, ws:// or wss:// URL (default: the operator's account server URL).",
    )(wrapped)
    return wrapped  # type: ignore[no-any-return]
