"""Issue 5, must-show 2: a full resolver on one nats-server, driven only through the nscpy CLI.

`generate config --nats-resolver` writes the config, nats-server runs it, `push -A` fills it,
users connect with the creds nscpy wrote; a revocation pushed later disconnects a live user;
`push --diff/--prune/-R` and `pull -A/-a` round-trip the store.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from nscpy.jwt import peek
from tests.commands.cliutil import ok, run
from tests.support.natsserver import free_port, nats_server_binary, wait_for_info

pytestmark = pytest.mark.e2e

FAST = ("--timeout", "0.5", "--expect-servers", "1")
"""One server: stop collecting replies as soon as it answered."""


@dataclass
class Served:
    """A nats-server started with `nats-server -c <generated file>`."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


@contextmanager
def serve_config(conf: Path, *extra: str, port: int | None = None) -> Iterator[Served]:
    """Run `nats-server -c conf` on 127.0.0.1 (listen given on the command line); bounded stop."""
    port = port or free_port()
    log = conf.with_suffix(f".{port}.log")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(conf), "-a", "127.0.0.1", "-p", str(port), *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=conf.parent,
        )
    try:
        wait_for_info(port, proc=proc)
        yield Served(proc, port, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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


@dataclass
class World:
    home: Path
    jwt_dir: Path
    server: Served

    @property
    def h(self) -> tuple[str, ...]:
        return ("-H", str(self.home))

    @property
    def u(self) -> tuple[str, ...]:
        return ("-u", self.server.url, *FAST)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("push1")
    home = base / "home"
    build_store(home)
    conf = base / "server.conf"
    jwt_dir = base / "jwt"
    ok("-H", str(home), "generate", "config", "--nats-resolver", "--allow-delete",
       "--dir", str(jwt_dir), "--config-file", str(conf))  # fmt: skip
    with serve_config(conf) as server:
        yield World(home, jwt_dir, server)


def test_push_all_then_users_connect(world: World) -> None:
    out = ok(*world.h, "push", "-A", *world.u)
    app, sys_key = account_key(world.home, "APP"), account_key(world.home, "SYS")
    assert out.splitlines()[0] == (
        f"[ OK ] connecting to {world.server.url} as a temporary system user"
    )
    assert f"[ OK ] APP ({app}): " in out and out.count(": jwt updated") == 2
    assert out.splitlines()[-1] == "[ OK ] pushed 2 accounts to a total of 1 nats-server"
    stored = (world.jwt_dir / f"{app}.jwt").read_text()
    assert stored == (world.home / "O/accounts/APP/APP.jwt").read_text().strip()
    assert (world.jwt_dir / f"{sys_key}.jwt").exists()
    assert roundtrip(world.server.url, creds(world.home, "APP", "alice")) == b"hi"


def test_revocation_pushed_later_disconnects_a_live_user(world: World) -> None:
    ok(*world.h, "add", "user", "-a", "APP", "-n", "carol")
    ok(*world.h, "push", "-a", "APP", *world.u)
    listener = spawn(world.home, "tool", "sub", "-a", "APP", "-u", "carol", "--nats",
                     world.server.url, "carol.>", "--timeout", "20")  # fmt: skip
    try:
        wait_listening(listener)
        ok(*world.h, "revoke", "user", "-a", "APP", "-n", "carol")
        out = ok(*world.h, "push", "-a", "APP", *world.u)
        assert "jwt updated" in out
        started = time.monotonic()
        code, _, err = finish(listener)
    finally:
        listener.kill()
    assert time.monotonic() - started < 5
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "nscpy: error: the server closed the connection: user authentication revoked"
    )


def test_diff_prune_and_remove(world: World) -> None:
    for name in ("GONE", "TMP"):
        ok(*world.h, "add", "account", "-n", name)
        ok(*world.h, "push", "-a", name, *world.u)
    gone, tmp = account_key(world.home, "GONE"), account_key(world.home, "TMP")
    # GONE leaves the local store but stays on the server
    ok(*world.h, "delete", "account", "-n", "GONE")
    out = ok(*world.h, "push", "--diff", *world.u)
    assert f"[WARN] {gone}: on the server only" in out
    assert "pushed" not in out  # --diff alone pushes nothing

    out = ok(*world.h, "push", "--prune", *world.u)
    assert f"[ OK ] asked to delete {gone}\n" in out
    assert out.rstrip().endswith(": deleted 1 accounts")
    assert (world.jwt_dir / f"{gone}.jwt.deleted").exists()
    assert not (world.jwt_dir / f"{gone}.jwt").exists()
    assert "on the server only" not in ok(*world.h, "push", "--diff", *world.u)
    assert "nothing to delete" in ok(*world.h, "push", "--prune", *world.u)

    out = ok(*world.h, "push", "-R", "TMP", *world.u)
    assert f"[ OK ] asked to delete TMP ({tmp})" in out
    assert not (world.jwt_dir / f"{tmp}.jwt").exists()
    # the local account stays: -R only removes it from the resolver
    assert (world.home / "O/accounts/TMP/TMP.jwt").exists()


def test_pull_all_and_one_round_trip(world: World, tmp_path: Path) -> None:
    ok(*world.h, "push", "-a", "APP", *world.u)
    app = account_key(world.home, "APP")
    original = (world.home / "O/accounts/APP/APP.jwt").read_text().strip()
    # a second home with the same operator and keys, but without the APP account
    other = tmp_path / "other"
    shutil.copytree(world.home, other)
    shutil.rmtree(other / "O/accounts/APP")
    h2 = ("-H", str(other))

    out = ok(*h2, "pull", "-a", app, *world.u)
    assert f"[ OK ] APP ({app}): stored as a new account" in out
    assert (other / "O/accounts/APP/APP.jwt").read_text().strip() == original

    shutil.rmtree(other / "O/accounts/APP")
    out = ok(*h2, "pull", "-A", *world.u)
    assert f"[ OK ] APP ({app}): stored as a new account" in out
    assert f"SYS ({account_key(other, 'SYS')}): already up to date" in out
    assert (other / "O/accounts/APP/APP.jwt").read_text().strip() == original

    # a local edit issued after the server's copy is kept unless --overwrite-newer
    while int(time.time()) <= peek(original).issued_at:
        time.sleep(0.05)
    ok(*h2, "edit", "account", "APP", "--tag", "local-edit")
    edited = (other / "O/accounts/APP/APP.jwt").read_text()
    out = ok(*h2, "pull", "-a", "APP", *world.u)
    assert "kept the local JWT, it is newer" in out and "--overwrite-newer" in out
    assert (other / "O/accounts/APP/APP.jwt").read_text() == edited
    out = ok(*h2, "pull", "-a", "APP", "--overwrite-newer", *world.u)
    assert f"[ OK ] APP ({app}): pulled" in out
    assert (other / "O/accounts/APP/APP.jwt").read_text().strip() == original


def test_pull_of_an_account_no_server_has(world: World) -> None:
    ok(*world.h, "add", "account", "-n", "NEVER")
    code, _, err = run(*world.h, "pull", "-a", "NEVER", "-u", world.server.url, "--timeout", "0.3")
    key = account_key(world.home, "NEVER")
    assert (code, err) == (
        1,
        f"nscpy: error: no nats-server stores account {key} (or none replied in time)\n",
    )


def test_pull_skips_accounts_of_another_operator(world: World, tmp_path: Path) -> None:
    stranger_home = tmp_path / "stranger"
    ok("-H", str(stranger_home), "add", "operator", "-n", "X")
    ok("-H", str(stranger_home), "add", "account", "-n", "ALIEN")
    alien_dir = stranger_home / "X/accounts/ALIEN"
    shutil.copytree(alien_dir, world.home / "O/accounts/ALIEN")
    alien = account_key(world.home, "ALIEN")
    try:
        code, _, err = run(*world.h, "push", "-a", "ALIEN", *world.u)
        assert (code, err) == (
            1,
            "nscpy: error: account 'ALIEN' is not signed by operator 'O' or its signing keys "
            "(pass -F to push anyway)\n",
        )
        # the server stores what it is given (it checks trust only when users connect)
        ok(*world.h, "push", "-a", "ALIEN", "-F", *world.u)
    finally:
        shutil.rmtree(world.home / "O/accounts/ALIEN")
    out = ok(*world.h, "pull", "-A", *world.u)
    assert f"[WARN] {alien}: skipped, not issued by operator 'O' or its signing keys" in out
    assert not (world.home / "O/accounts/ALIEN").exists()
    ok(*world.h, "push", "--prune", *world.u)  # leave the resolver as the store has it
