"""`nscpy callout serve`: run an auth callout service (nscpy.callout) against a server."""

from __future__ import annotations

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.resolver_options import tls_options


@click.command("serve")
@click.option("-u", "--url", required=True, help="Server URL, e.g. nats://127.0.0.1:4222.")
@click.option("-a", "--account", help="Operator mode: the callout account in the store.")
@click.option("--auth-user", help="Operator mode: which auth user to connect as.")
@click.option("--user", help="Config mode: the auth user's name.")
@click.option(
    "--password", envvar="NSCPY_CALLOUT_PASSWORD", help="Config mode: its password (or env)."
)
@click.option("--creds", type=click.Path(dir_okay=False), help="Connect with this creds file.")
@click.option(
    "--issuer-seed",
    type=click.Path(dir_okay=False),
    help="Config mode: file with the auth_callout issuer's account seed.",
)
@click.option("--xkey-seed", type=click.Path(dir_okay=False), help="File with the xkey (SX) seed.")
@click.option("--authorizer", help="Decide with MODULE:FUNCTION (AuthRequest -> Allow|Reject).")
@click.option("--map", "map_file", type=click.Path(dir_okay=False), help="Decide from a TOML map.")
@click.option("--queue", default="nscpy.callout", show_default=True, help="Queue group name.")
@click.option(
    "--timeout",
    type=click.FloatRange(0.05, 60),
    default=1.5,
    show_default=True,
    help="Seconds the authorizer may take before the client is rejected.",
)
@click.option(
    "--max-concurrency",
    type=click.IntRange(1, 10_000),
    default=64,
    show_default=True,
    help="Requests decided at once.",
)
@tls_options
@pass_app
def serve(
    app: AppContext,
    /,
    url: str,
    account: str | None,
    auth_user: str | None,
    user: str | None,
    password: str | None,
    creds: str | None,
    issuer_seed: str | None,
    xkey_seed: str | None,
    authorizer: str | None,
    map_file: str | None,
    queue: str,
    timeout: float,
    max_concurrency: int,
    ca_file: str | None,
    cert_file: str | None,
    key_file: str | None,
    tls_first: bool,
) -> None:
    """Answer $SYS.REQ.USER.AUTH until SIGTERM; one log line per decision on stderr.

    \b
    Examples:
      nscpy callout serve -u nats://127.0.0.1:4222 --creds auth.creds --map users.toml
      nscpy callout serve -u nats://127.0.0.1:4222 -a AUTH --authorizer mymod:decide
    """
    import asyncio
    import logging
    import os

    from nscpy.actions.callout import ServeSpec, serve_setup
    from nscpy.callout.runner import client_tls, serve

    spec = ServeSpec(
        url=url,
        user=user,
        password=password,
        creds=creds,
        issuer_seed=issuer_seed,
        xkey_seed=xkey_seed,
        account=account,
        auth_user=auth_user,
        authorizer=authorizer,
        map_file=map_file,
    )
    if tls_first:
        raise click.UsageError("--tls-first is not supported by callout serve")
    setup = serve_setup(app.workspace if account is not None else None, spec)
    env = os.environ  # the same NATS_CA/NATS_CERT/NATS_KEY fallbacks as push and tool
    tls = client_tls(
        ca_file or env.get("NATS_CA"),
        cert_file or env.get("NATS_CERT"),
        key_file or env.get("NATS_KEY"),
    )
    connect = {**setup.connect, **({"tls": tls} if tls is not None else {})}
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    def ready(line: str) -> None:
        click.echo(line, err=True)  # on stderr, like tool sub: scripts wait for it

    counters = asyncio.run(
        serve(
            setup.url,
            connect,
            setup.keys,
            setup.authorizer,
            queue=queue,
            timeout=timeout,
            max_concurrency=max_concurrency,
            ready=ready,
        )
    )
    summary = ", ".join(f"{k} {counters.get(k, 0)}" for k in ("allowed", "rejected", "failed"))
    click.echo(f"stopped: {summary}, invalid {counters.get('invalid', 0)}", err=True)
