"""`nscpy server`: run the bundled server_stub (the same as `python -m server_stub`)."""

from __future__ import annotations

import sys

import click


@click.command(
    "server",
    context_settings={"ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def server(args: tuple[str, ...]) -> None:
    """Run the bundled NATS server: nscpy server [-c FILE] [-p PORT] [-a HOST] [-D].

    It binds 127.0.0.1 unless -a says otherwise and prints its URL on the first line.
    As with nats-server, relative paths in FILE (operator JWT file, resolver dir, pid_file,
    log_file, TLS files) are relative to the directory it is started in; an include is
    relative to the file that includes it.

    \b
    Examples:
      nscpy server -c server.conf
      nscpy server -p 0 -D
    """
    from server_stub.__main__ import main

    sys.exit(main(list(args)))
