"""`nscpy store migrate|watch|share-key|open-key|shared`: the shared (KV) data store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import emit_json
from nscpy.commands.reporting import json_option

if TYPE_CHECKING:
    from nscpy.actions.kvstore import Change


@click.group()
def store() -> None:
    """The shared data store in a NATS JetStream KV bucket (--store nats://...?bucket=NAME).

    \b
    Examples:
      nscpy store migrate --from ~/.local/share/nats/nsc/stores --to nats://127.0.0.1:4222?bucket=nsc
      nscpy --store nats://127.0.0.1:4222?bucket=nsc store watch --history
    """


@store.command("migrate")
@click.option("--from", "source", required=True, help="A stores directory or a nats:// store URL.")
@click.option("--to", "target", required=True, help="A nats:// store URL or a stores directory.")
@json_option
@pass_app
def migrate(app: AppContext, source: str, target: str, as_json: bool) -> None:
    """Copy every operator between a directory and a KV store, byte for byte (checked after).

    The --store-creds and --store-* TLS root options apply to the nats:// side.

    \b
    Examples:
      nscpy store migrate --from ~/.local/share/nats/nsc/stores --to nats://127.0.0.1:4222?bucket=nsc
    """
    import os

    from nscpy.actions.kvstore import migrate as run

    report = run(
        source,
        target,
        os.environ,
        {k: v for k, v in app.store_options.items() if v},
        lambda root: app.workspace.paths.with_store_root(root),
    )
    if as_json:
        emit_json(report.to_json())
        return
    click.echo(
        f"[ OK ] migrated {report.files} file(s) of {len(report.operators)} operator(s) "
        f"({', '.join(report.operators)}) from {report.source} to {report.target}; "
        "the copy matches byte for byte"
    )


def _print_change(change: Change, as_json: bool) -> None:
    if as_json:
        import json

        click.echo(json.dumps(change.to_json(), ensure_ascii=False))  # one object per line
    else:
        click.echo(change.line())


@store.command("watch")
@click.option("--history", is_flag=True, help="Print the kept history first, then follow.")
@click.option("--count", type=click.IntRange(1), default=None, help="Stop after this many changes.")
@json_option
@pass_app
def watch(app: AppContext, history: bool, count: int | None, as_json: bool) -> None:
    """Print every change to the store as it happens (one line, or one JSON object, each).

    \b
    Examples:
      nscpy --store nats://127.0.0.1:4222?bucket=nsc store watch --history --count 10
    """
    import sys

    from nscpy.actions.kvstore import watch as run

    def show(change: Change) -> None:
        _print_change(change, as_json)
        sys.stdout.flush()

    def ready(where: str) -> None:
        click.echo(f"watching the {where} (Ctrl-C to stop)", err=True)

    try:
        run(app.workspace, show, count=count, history=history, on_ready=ready)
    except KeyboardInterrupt:
        return


@store.command("share-key")
@click.argument("public_key")
@click.option("--to", "recipients", multiple=True, required=True, help="Recipient X key.")
@click.option("--xkey", help="Our own curve key to seal from (default: the only one).")
@pass_app
def share_key(
    app: AppContext, public_key: str, recipients: tuple[str, ...], xkey: str | None
) -> None:
    """Put a seed in the store sealed (xkv1) to each recipient's curve key; never in plain.

    \b
    Examples:
      nscpy --store nats://127.0.0.1:4222?bucket=nsc store share-key ADKB... --to XAB3...
    """
    from nscpy.actions.kvstore import share_seed

    for key in share_seed(app.workspace, public_key, list(recipients), xkey):
        recipient = key.rsplit(".", 1)[1]
        click.echo(f"[ OK ] shared the seed of {public_key} sealed to {recipient}")


@store.command("open-key")
@click.argument("public_key")
@click.option("--xkey", help="Our curve key the seed was sealed to (default: the only one).")
@pass_app
def open_key(app: AppContext, public_key: str, xkey: str | None) -> None:
    """Open a seed sealed to our curve key and keep it in the local keystore.

    \b
    Examples:
      nscpy --store nats://127.0.0.1:4222?bucket=nsc store open-key ADKB...
    """
    from nscpy.actions.kvstore import open_shared_seed

    stored = open_shared_seed(app.workspace, public_key, xkey)
    click.echo(f"[ OK ] stored the seed of {stored} in the local keystore")


@store.command("shared")
@click.argument("public_key", required=False)
@json_option
@pass_app
def shared(app: AppContext, public_key: str | None, as_json: bool) -> None:
    """List the seeds shared sealed in the store: whose key, sealed to which curve key.

    \b
    Examples:
      nscpy --store nats://127.0.0.1:4222?bucket=nsc store shared --json
    """
    from nscpy.actions.kvstore import shared_with

    pairs = sorted(shared_with(app.workspace, public_key))
    if as_json:
        emit_json([{"public_key": k, "recipient": r} for k, r in pairs])
        return
    for key, recipient in pairs:
        click.echo(f"{key}  sealed to  {recipient}")
