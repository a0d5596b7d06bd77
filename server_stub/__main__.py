"""`python -m server_stub -c FILE [-p PORT] [-a HOST] [-m HTTP_PORT]`: prints the bound URL on
the first line. -m serves the monitoring endpoints (/varz, /connz, ...) on that port.

SIGTERM and SIGINT stop the server; SIGUSR2 enters lame-duck mode (as nats-server: stop
accepting, tell the clients, close them over lame_duck_duration, then exit 0).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from nscpy.errors import NscError
from server_stub.eventloop import DEFAULT_SPIN_US, run
from server_stub.options import ServerOptions

_EXAMPLES = """\
Examples:
  python -m server_stub -c server.conf
  python -m server_stub -p 0 -D
  python -m server_stub -c server.conf -m 8222 --spin-us 0
"""


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m server_stub",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EXAMPLES,
    )
    parser.add_argument("-c", "--config", type=Path, help="nats-server style config file")
    parser.add_argument("-p", "--port", type=int, help="port (0 picks a free one)")
    parser.add_argument("-a", "--addr", help="host to bind (default 127.0.0.1)")
    parser.add_argument("-m", "--http_port", type=int, help="monitoring port (-1 picks a free one)")
    parser.add_argument("-D", "--debug", action="store_true", help="log protocol errors")
    parser.add_argument(
        "--uvloop", action="store_true", help="run on uvloop (pip install 'nscpy[fast]')"
    )
    parser.add_argument(
        "--spin-us",
        type=int,
        default=None,
        metavar="N",
        help=f"poll up to N microseconds before sleeping while traffic flows (default "
        f"{DEFAULT_SPIN_US}; 0 turns it off; not with --uvloop)",
    )
    args = parser.parse_args(argv)
    if args.spin_us is not None and args.spin_us < 0:
        parser.error("--spin-us must be 0 or more")
    if args.uvloop and args.spin_us:
        parser.error("--spin-us needs asyncio's selector loop: not with --uvloop")
    return args


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
    if options.pid_file is not None:
        options.pid_file.write_text(str(os.getpid()))
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    lame_duck: list[asyncio.Task[None]] = []

    def enter_lame_duck() -> None:
        if not lame_duck:
            lame_duck.append(loop.create_task(server.lame_duck()))
            lame_duck[0].add_done_callback(lambda _: stop.set())

    loop.add_signal_handler(signal.SIGUSR2, enter_lame_duck)
    await stop.wait()
    await server.stop()


def _uvloop() -> Any:
    """The optional uvloop module (imported by name: the default install does without it)."""
    try:
        return importlib.import_module("uvloop")
    except ImportError:
        raise NscError("--uvloop needs uvloop: pip install 'nscpy[fast]'") from None


def _logging(options: ServerOptions, debug: bool) -> None:
    handler: logging.Handler
    if options.log_file is not None:
        handler = logging.FileHandler(options.log_file)
    else:
        handler = logging.StreamHandler(sys.stderr)
    stamp = "%(asctime)s " if options.logtime else ""
    handler.setFormatter(logging.Formatter(f"[server_stub] {stamp}%(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if debug or options.debug else logging.WARNING)


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
        if args.http_port is not None:
            options.http_port = args.http_port
        _logging(options, args.debug)
        if args.uvloop:
            _uvloop().run(_run(options))
        else:
            run(_run(options), DEFAULT_SPIN_US if args.spin_us is None else args.spin_us)
    except NscError as exc:
        print(f"server_stub: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # pid_file or log_file not writable
        print(f"server_stub: {exc.filename or ''}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
