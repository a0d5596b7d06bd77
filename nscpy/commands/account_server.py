"""`nscpy account-server`: the operator's JWTs over HTTP for nats-server's URL resolver."""

from __future__ import annotations

from pathlib import Path

import click

from nscpy.commands.context import AppContext, pass_app


@click.command("account-server")
@click.option("-d", "--dir", "directory", required=True, help="Directory holding the JWTs.")
@click.option("-p", "--port", type=click.IntRange(0, 65535), default=9090, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--operator", help="Operator to serve (default: current).")
@click.option(
    "--notify",
    "notify_url",
    help="nats:// URL(s) of servers to tell of updates (needs --notify-creds).",
)
@click.option("--notify-creds", type=click.Path(dir_okay=False), help="A system user's creds.")
@pass_app
def account_server(
    app: AppContext,
    /,
    directory: str,
    port: int,
    host: str,
    operator: str | None,
    notify_url: str | None,
    notify_creds: str | None,
) -> None:
    """Serve the operator's JWTs at http://HOST:PORT/jwt/v1 (the URL resolver's API).

    The store's operator and accounts are written to DIR at start; `nscpy push` to the
    operator's http(s) account server URL POSTs updates, which are checked (signed by the
    operator, not older) before they are stored, and with --notify passed on to servers.

    \b
    Examples:
      nscpy edit operator -u http://127.0.0.1:9090/jwt/v1
      nscpy account-server -d ./jwts -p 9090 &
      # nats-server: resolver: URL(http://127.0.0.1:9090/jwt/v1/accounts/)
      nscpy push -A
    """
    import logging

    from nscpy.accountserver import AccountServer, nats_notifier, serve

    if bool(notify_url) != bool(notify_creds):
        raise click.UsageError("--notify and --notify-creds go together")
    ws = app.workspace
    op_name = ws.operator_name(operator)
    notify = None
    if notify_url and notify_creds:
        urls = [u.strip() for u in notify_url.split(",") if u.strip()]
        notify = nats_notifier(urls, Path(notify_creds).read_text("utf-8"))
    server = AccountServer(Path(directory), ws.store.read_operator(op_name), notify)
    for name in ws.store.list_accounts(op_name):
        token = ws.store.read_account(op_name, name).strip()
        answer = server.handle("POST", f"/jwt/v1/accounts/{_subject(token)}", token.encode())
        if answer.status not in (200, 409):
            click.echo(f"[WARN] account {name!r} not served: {answer.body.strip()}", err=True)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    def ready(bound: int) -> None:
        # on stderr, so scripts can wait for it; the URL is what nats-server's config needs
        click.echo(
            f"serving http://{host}:{bound}/jwt/v1 (accounts under /jwt/v1/accounts/)", err=True
        )

    try:
        serve(server, host, port, ready)
    except KeyboardInterrupt:
        pass


def _subject(token: str) -> str:
    from nscpy.jwt import decode

    return decode(token).subject
