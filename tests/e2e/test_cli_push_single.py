"""A full resolver on one nats-server, driven only through the nscpy CLI.

`generate config --nats-resolver` writes the config, nats-server runs it, `push -A` fills it,
users connect with the creds nscpy wrote; a revocation pushed later disconnects a live user;
`push --diff/--prune/-R` and `pull -A/-a` round-trip the store.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from nscpy.jwt import peek
from tests.commands.cliutil import ok, run
from tests.support.cli_e2e import (
    account_key,
    build_store,
    creds,
    finish,
    roundtrip,
    spawn,
    wait_listening,
)
from tests.support.natsserver import RunningServer, serve_config

pytestmark = pytest.mark.e2e

FAST = ("--timeout", "0.5", "--expect-servers", "1")
"""One server: stop collecting replies as soon as it answered."""


@dataclass
class World:
    home: Path
    jwt_dir: Path
    server: RunningServer

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


def test_push_all_reads_each_stored_jwt_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # push -A used to read every account file three times and the operator twice
    from nscpy.store.jwtstore import DataStore

    reads: list[tuple[str, ...]] = []
    read_account, read_operator = DataStore.read_account, DataStore.read_operator

    def count_account(self: DataStore, operator: str, account: str) -> str:
        reads.append(("account", operator, account))
        return read_account(self, operator, account)

    def count_operator(self: DataStore, operator: str) -> str:
        reads.append(("operator", operator))
        return read_operator(self, operator)

    monkeypatch.setattr(DataStore, "read_account", count_account)
    monkeypatch.setattr(DataStore, "read_operator", count_operator)
    ok(*world.h, "push", "-A", *world.u)
    accounts = sorted(r for r in reads if r[0] == "account")
    names = sorted(d.name for d in (world.home / "O" / "accounts").iterdir())
    assert "APP" in names and "SYS" in names
    assert accounts == [("account", "O", name) for name in names]
    assert reads.count(("operator", "O")) == 1
