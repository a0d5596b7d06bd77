"""A small store made with the CLI, and nscpy child processes, for the end-to-end CLI tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from nscpy.jwt import peek
from tests.commands.cliutil import ok


def spawn(home: Path, *argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start `python -m nscpy -H home argv...` as a child (for sub/reply that run a while)."""
    return subprocess.Popen(
        [sys.executable, "-m", "nscpy", "-H", str(home), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def wait_listening(proc: subprocess.Popen[str], timeout: float = 15.0) -> None:
    """Block until the child prints 'listening on' on stderr (fail if it exits first)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line.startswith("listening on"):
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"child exited with {proc.returncode} before listening")
    raise AssertionError("child did not start listening in time")


def finish(proc: subprocess.Popen[str], timeout: float = 15.0) -> tuple[int, str, str]:
    """Wait for the child (killing it past timeout); (exit code, stdout, rest of stderr)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


def build_store(home: Path) -> None:
    """Operator O with SYS, account APP with users alice (orders.*) and bob."""
    h = ("-H", str(home))
    ok(*h, "add", "operator", "-n", "O", "--sys")
    ok(*h, "add", "account", "-n", "APP")
    ok(*h, "add", "user", "-a", "APP", "-n", "alice", "--allow-pub", "orders.>",
       "--allow-sub", "orders.>,_INBOX.>")  # fmt: skip
    ok(*h, "add", "user", "-a", "APP", "-n", "bob")


def account_key(home: Path, account: str) -> str:
    return peek((home / "O/accounts" / account / f"{account}.jwt").read_text()).subject


def creds(home: Path, account: str, user: str) -> str:
    return str(home / "creds/O" / account / f"{user}.creds")


async def _roundtrip(url: str, creds_path: str, subject: str) -> bytes:
    import nats

    nc = await nats.connect(url, user_credentials=creds_path, allow_reconnect=False)
    try:
        sub = await nc.subscribe(subject)
        await nc.publish(subject, b"hi")
        return bytes((await sub.next_msg(timeout=3)).data)
    finally:
        await nc.close()


def roundtrip(url: str, creds_path: str, subject: str = "orders.1") -> bytes:
    """Connect with a creds file, publish to and receive from subject."""
    return asyncio.run(_roundtrip(url, creds_path, subject))
