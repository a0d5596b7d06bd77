"""`python -m server_stub -c FILE [-p PORT] [-a HOST]`: prints the bound URL on the first line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from nscpy.errors import NscError
from server_stub.options import ServerOptions


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m server_stub", description=__doc__)
    parser.add_argument("-c", "--config", type=Path, help="nats-server style config file")
    parser.add_argument("-p", "--port", type=int, help="port (0 picks a free one)")
    parser.add_argument("-a", "--addr", help="host to bind (default 127.0.0.1)")
    parser.add_argument("-D", "--debug", action="store_true", help="log protocol errors")
    return parser.parse_args(argv)


async def _run(options: ServerOptions) -> None:
    from server_stub.server import Server

    server = Server(options)
    try:
        await server.start()
    except (OSError, OverflowError) as exc:  # port taken, out of range, host unknown
        from server_stub.errors import ConfigError

        errno = exc.errno if isinstance(exc, OSError) else None
        reason = os.strerror(errno) if errno else str(exc)
        raise ConfigError(f"cannot listen on {options.host}:{options.port}: {reason}") from None
    print(server.url, flush=True)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = _parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.debug else logging.WARNING,
        format="[server_stub] %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    try:
        if args.config is not None:
            from server_stub.config import load

            options = load(args.config)
        else:
            options = ServerOptions()
        if args.port is not None:
            options.port = args.port
        if args.addr is not None:
            options.host = args.addr
        asyncio.run(_run(options))
    except NscError as exc:
        print(f"server_stub: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
