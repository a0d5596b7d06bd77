"""The main job (`make demo`): the whole nscpy flow, end to end, on the bundled server_stub.

It runs the real CLI in a throwaway directory, writes a server config, starts the server on
127.0.0.1, and connects real nats-py clients with the creds nscpy wrote. No seed is printed.
`python -m nscpy.demo --server nats-server` runs the same flow on the real nats-server binary.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def _step(title: str) -> None:
    print(f"\n=== {title}")


def _nscpy(home: Path, *args: str) -> str:
    shown = " ".join(shlex.quote(a) for a in args)
    print(f"$ nscpy {shown}")
    done = subprocess.run(
        [sys.executable, "-m", "nscpy", "-H", str(home), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    out = done.stdout + done.stderr
    print("  " + out.strip().replace("\n", "\n  ") if out.strip() else "  (no output)")
    if done.returncode != 0:
        raise SystemExit(f"demo: 'nscpy {shown}' failed with exit code {done.returncode}")
    return done.stdout


def _start_server(kind: str, config: Path) -> tuple[subprocess.Popen[str], str]:
    if kind == "stub":
        proc = subprocess.Popen(
            [sys.executable, "-m", "server_stub", "-c", str(config), "-p", "0"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("nats://"):
            proc.kill()
            raise SystemExit(f"demo: server_stub did not start (printed {url!r})")
        return proc, url
    from tests.support.natsserver import free_port, nats_server_binary, wait_for_info

    port = free_port()
    proc = subprocess.Popen(
        [nats_server_binary(), "-c", str(config), "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    wait_for_info(port)
    return proc, f"nats://127.0.0.1:{port}"


async def _clients(url: str, creds: Path) -> list[str]:
    import nats

    lines: list[str] = []
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    nc = await nats.connect(url, user_credentials=str(creds), error_cb=on_error)
    try:
        sub = await nc.subscribe("orders.>")
        await nc.publish("orders.new", b"order #1")
        msg = await sub.next_msg(timeout=5)
        lines.append(f"alice published orders.new and received {msg.data!r} on {msg.subject}")
        await nc.publish("orders.secret", b"should not pass")
        await nc.flush()
        for _ in range(40):
            if errors:
                break
            await asyncio.sleep(0.05)
        lines.append(
            f"alice publishing to orders.secret -> server said: {errors[0] if errors else '??'}"
        )
    finally:
        await nc.close()
    return lines


def run(server: str) -> int:
    """Run the demo; returns the process exit code."""
    work = Path(tempfile.mkdtemp(prefix="nscpy-demo-"))
    home = work / "nsc"
    try:
        _step("A store: operator, system account, an application account and user (no prompts)")
        _nscpy(home, "init", "-n", "demo")
        _step("A user with permissions: publish orders.> but not orders.secret")
        _nscpy(
            home,
            "add", "user", "-a", "demo", "-n", "alice",
            "--allow-pub", "orders.>", "--deny-pub", "orders.secret",
            "--allow-sub", "orders.>,_INBOX.>",
        )  # fmt: skip
        _nscpy(home, "describe", "user", "-a", "demo", "alice")
        _nscpy(home, "list", "users", "-a", "demo", "--json")
        _step("A server config that trusts the operator and preloads the accounts")
        config = work / "server.conf"
        _nscpy(home, "generate", "config", "--mem-resolver", "--config-file", str(config))
        _step(f"The server ({'bundled server_stub' if server == 'stub' else 'nats-server'})")
        proc, url = _start_server(server, config)
        print(f"listening on {url}")
        try:
            creds = home / "creds" / "demo" / "demo" / "alice.creds"
            _step("A real nats-py client with alice's creds")
            for line in asyncio.run(_clients(url, creds)):
                print(line)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        _step("Done: every JWT above was signed by nscpy; the server verified the chain")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(prog="python -m nscpy.demo", description=__doc__)
    parser.add_argument("--server", choices=("stub", "nats-server"), default="stub")
    return run(parser.parse_args(argv).server)


if __name__ == "__main__":
    sys.exit(main())
