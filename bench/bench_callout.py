"""Auth callout connects/s through the Python service, beside plain user-JWT connects/s.

One operator store made with the CLI: account AUTH runs the callout (`edit authcallout`, with
an xkey unless --no-xkey), account ORDERS has a plain user. The server (nats-server, then the
stub) runs `generate config --mem-resolver`; the service is `nscpy callout serve -a AUTH --map`
in its own process. Each figure is N nats-py connects (connect + close), one at a time and
then 16 at a time; the callout clients present the sentinel JWT and a token the map knows.

Usage: .venv/bin/python bench/bench_callout.py [N_CONNECTS] [--no-xkey]
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import nats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.commands.cliutil import ok  # noqa: E402
from tests.server_stub.harness import server  # noqa: E402

MAP = '[[users]]\ntoken = "t0ken"\naccount = "ORDERS"\nallow_pub = ["orders.>"]\n'
PARALLEL = 16


def build(tmp: Path, xkey: bool) -> tuple[Path, Path]:
    h = ("-H", str(tmp / "home"))
    ok(*h, "add", "operator", "-n", "O", "--sys")
    ok(*h, "add", "account", "-n", "AUTH")
    ok(*h, "add", "account", "-n", "ORDERS")
    ok(*h, "add", "user", "-a", "AUTH", "-n", "svc")
    ok(*h, "add", "user", "-a", "AUTH", "-n", "sentinel", "--bearer", "--deny-pubsub", ">")
    ok(*h, "add", "user", "-a", "ORDERS", "-n", "plain")
    extra = ("--curve", "generate") if xkey else ()
    ok(*h, "edit", "authcallout", "-a", "AUTH", "--auth-user", "svc",
       "--allowed-account", "ORDERS", *extra)  # fmt: skip
    conf = tmp / "server.conf"
    ok(*h, "generate", "config", "--mem-resolver", "--config-file", str(conf))
    (tmp / "map.toml").write_text(MAP)
    return tmp / "home", conf


async def connects(url: str, n: int, parallel: int, **opts: Any) -> float:
    async def one() -> None:
        nc = await nats.connect(url, allow_reconnect=False, **opts)
        await nc.close()

    await one()  # warm-up: loads the account, primes the service
    start = time.perf_counter()
    done = 0
    while done < n:
        batch = min(parallel, n - done)
        await asyncio.gather(*(one() for _ in range(batch)))
        done += batch
    return n / (time.perf_counter() - start)


def service(home: Path, url: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "nscpy",
            "-H",
            str(home),
            "callout",
            "serve",
            "-u",
            url,
            "-a",
            "AUTH",
            "--map",
            str(home.parent / "map.toml"),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if not line.startswith("listening for auth requests"):
        proc.kill()
        raise RuntimeError(f"callout serve did not start: {line!r}")
    # the service logs a line per decision: drain stderr so it never blocks on a full pipe
    threading.Thread(target=_drain, args=(proc.stderr,), daemon=True).start()
    return proc


def _drain(stream: Any) -> None:
    for _ in stream:
        pass


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 500
    xkey = "--no-xkey" not in sys.argv
    cores = os.cpu_count()
    print(f"{n} connects each; xkey {'on' if xkey else 'off'}; {cores} cores (shared machine)")
    with tempfile.TemporaryDirectory() as d:
        home, conf = build(Path(d), xkey)
        plain = str(home / "creds/O/ORDERS/plain.creds")
        sentinel = str(home / "creds/O/AUTH/sentinel.creds")
        for kind in ("nats-server", "stub"):
            with server(kind, conf) as url:
                proc = service(home, url)
                try:
                    for par in (1, PARALLEL):
                        jwt_rate = asyncio.run(connects(url, n, par, user_credentials=plain))
                        callout_rate = asyncio.run(
                            connects(url, n, par, user_credentials=sentinel, token="t0ken")
                        )
                        print(
                            f"{kind:11s} x{par:<2d} plain JWT {jwt_rate:7.0f} connects/s"
                            f"   via callout {callout_rate:7.0f} connects/s"
                            f"   ratio {callout_rate / jwt_rate:.2f}"
                        )
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(10)


if __name__ == "__main__":
    main()
