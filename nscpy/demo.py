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
from typing import Any


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


def _start_server(kind: str, config: Path, cwd: Path) -> tuple[subprocess.Popen[str], str]:
    if kind == "stub":
        proc = subprocess.Popen(
            [sys.executable, "-m", "server_stub", "-c", str(config), "-p", "0"],
            stdout=subprocess.PIPE,
            text=True,
            cwd=cwd,
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
        cwd=cwd,
    )
    wait_for_info(port)
    return proc, f"nats://127.0.0.1:{port}"


async def _connect(url: str, creds: Path, errors: list[str]) -> Any:
    import nats

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    return await nats.connect(
        url, user_credentials=str(creds), error_cb=on_error, allow_reconnect=False
    )


async def _wait_for(errors: list[str]) -> str:
    for _ in range(60):
        if errors:
            return errors[-1]
        await asyncio.sleep(0.05)
    return "(nothing)"


async def _permissions_story(url: str, alice: Path, bob: Path) -> None:
    alice_errors: list[str] = []
    bob_errors: list[str] = []
    a = await _connect(url, alice, alice_errors)
    b = await _connect(url, bob, bob_errors)
    try:
        sub = await b.subscribe("orders.>")
        await b.flush()
        await a.publish("orders.new", b"order #1")
        msg = await sub.next_msg(timeout=5)
        print(f"alice published orders.new; bob received {msg.data!r}")
        await a.publish("orders.secret", b"should not pass")
        await a.flush()
        print(f"alice publishing to orders.secret -> server: {await _wait_for(alice_errors)}")
        await b.publish("orders.new", b"bob may not publish")
        await b.flush()
        print(f"bob (subscribe-only) publishing -> server: {await _wait_for(bob_errors)}")
    finally:
        await a.close()
        await b.close()


async def _revocation_story(url: str, home: Path, bob: Path) -> None:
    errors: list[str] = []
    b = await _connect(url, bob, errors)
    print("bob is connected; revoking bob and pushing the account to the running server ...")
    await asyncio.to_thread(_nscpy, home, "revoke", "user", "-a", "demo", "-n", "bob")
    await asyncio.to_thread(_nscpy, home, "push", "-a", "demo", "-u", url)
    # nats-py records the server's -ERR as last_error and closes (it calls no error_cb for it)
    for _ in range(100):
        if b.is_closed or b.last_error is not None:
            break
        await asyncio.sleep(0.05)
    reason = b.last_error or (errors[-1] if errors else "(still connected)")
    print(f"bob's open connection -> server: {reason}")
    await b.close()
    try:
        retry = await _connect(url, bob, [])
    except Exception as exc:  # nats-py raises its own error types for a refused connect
        print(f"bob connecting again -> refused: {exc}")
    else:
        await retry.close()
        raise SystemExit("demo: the revoked user could connect again")


def run(server: str) -> int:
    """Run the demo; returns the process exit code."""
    work = Path(tempfile.mkdtemp(prefix="nscpy-demo-"))
    home = work / "nsc"
    try:
        _step("A store: operator, system account, an application account and user (no prompts)")
        _nscpy(home, "init", "-n", "demo")
        _step("Two users: alice publishes orders.> (not orders.secret); bob only subscribes")
        _nscpy(
            home,
            "add", "user", "-a", "demo", "-n", "alice",
            "--allow-pub", "orders.>", "--deny-pub", "orders.secret",
            "--allow-sub", "_INBOX.>",
        )  # fmt: skip
        _nscpy(
            home, "add", "user", "-a", "demo", "-n", "bob",
            "--allow-sub", "orders.>,_INBOX.>", "--deny-pub", ">",
        )  # fmt: skip
        _nscpy(home, "describe", "user", "-a", "demo", "alice")
        _nscpy(home, "list", "users", "-a", "demo", "--json")
        _step("A server config with a full resolver that trusts the operator")
        config = work / "server.conf"
        _nscpy(home, "generate", "config", "--nats-resolver", "--config-file", str(config))
        _step(f"The server ({'bundled server_stub' if server == 'stub' else 'nats-server'})")
        proc, url = _start_server(server, config, cwd=work)
        print(f"listening on {url}")
        try:
            _step("Push the accounts to the server over the system account")
            _nscpy(home, "push", "-A", "-u", url)
            creds = home / "creds" / "demo" / "demo"
            _step("Real nats-py clients with the creds nscpy wrote")
            asyncio.run(_permissions_story(url, creds / "alice.creds", creds / "bob.creds"))
            _step("A revocation pushed live")
            asyncio.run(_revocation_story(url, home, creds / "bob.creds"))
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
