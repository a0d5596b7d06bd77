"""push errors on the server side: refusals, missing responders and partial replies.

Each failure prints the per-server lines first and then one `nscpy: error:` line quoting the
server's own description, with exit code 1.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.commands.cliutil import ok, run
from tests.support.cli_e2e import account_key, build_store
from tests.support.natsserver import RunningServer, serve_config

pytestmark = pytest.mark.e2e


@dataclass
class World:
    home: Path
    server: RunningServer

    @property
    def h(self) -> tuple[str, ...]:
        return ("-H", str(self.home))

    @property
    def u(self) -> tuple[str, ...]:
        return ("-u", self.server.url, "--timeout", "0.5")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("pusherr")
    home = base / "home"
    build_store(home)
    conf = base / "server.conf"
    # allow_delete stays false, as generate config writes it by default
    ok("-H", str(home), "generate", "config", "--nats-resolver", "--dir", str(base / "jwt"),
       "--config-file", str(conf))  # fmt: skip
    with serve_config(conf) as server:
        yield World(home, server)


def _tamper(path: Path) -> None:
    """Change the account's name inside the JWT without re-signing it."""
    head, body, sig = path.read_text().strip().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["name"] = "MALLORY"
    raw = json.dumps(claims, separators=(",", ":")).encode()
    path.write_text(f"{head}.{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{sig}")


def test_server_refuses_a_tampered_account(world: World, tmp_path: Path) -> None:
    ok(*world.h, "add", "account", "-n", "BENT")
    key = account_key(world.home, "BENT")
    _tamper(world.home / "O/accounts/BENT/BENT.jwt")
    code, out, err = run(*world.h, "push", "-a", "BENT", *world.u)
    assert (code, out) == (1, "")
    assert err.startswith("nscpy: error: account 'BENT' does not decode: ")
    assert err.endswith("(pass -F to push anyway)\n")

    code, out, err = run(*world.h, "push", "-a", "BENT", "-F", *world.u)
    assert code == 1
    description = "jwt update resulted in error - claim failed V2 signature verification"
    lines = err.splitlines()
    assert lines[0].startswith(f"[ERR ] BENT ({key}): ")
    assert lines[0].endswith(f": failed: {description}")
    assert lines[1] == "[ERR ] pushed 1 account to a total of 1 nats-server"
    assert lines[2].startswith("nscpy: error: nats-server ")
    assert lines[2].endswith(f" refused account {key}: {description!r}")
    assert len(lines) == 3


def test_server_refuses_to_delete_without_allow_delete(world: World) -> None:
    ok(*world.h, "add", "account", "-n", "DOOMED")
    ok(*world.h, "push", "-a", "DOOMED", *world.u, "--expect-servers", "1")
    code, out, err = run(*world.h, "push", "-R", "DOOMED", *world.u)
    assert code == 1
    assert f"[ OK ] asked to delete DOOMED ({account_key(world.home, 'DOOMED')})" in out
    assert err.endswith("failed - delete must be enabled in server config'\n")
    assert err.splitlines()[-1].startswith("nscpy: error: nats-server ")
    assert " refused the delete request: 'delete accounts request by O" in err


def test_partial_replies(world: World) -> None:
    code, out, err = run(*world.h, "push", "-a", "APP", *world.u, "--expect-servers", "2")
    assert code == 1
    assert "jwt updated" in out
    assert err.splitlines()[-1] == (
        f"nscpy: error: 1 of 2 servers replied to the push of account "
        f"{account_key(world.home, 'APP')}"
    )
    code, _, err = run(*world.h, "push", "--diff", *world.u, "--expect-servers", "3")
    assert (code, err) == (
        1,
        "nscpy: error: 1 of 3 servers replied to the account list request\n",
    )


def test_pushing_as_a_user_outside_the_system_account(world: World) -> None:
    code, out, err = run(*world.h, "push", "-a", "APP", "--system-account", "APP", *world.u)
    assert (code, out) == (1, "")
    assert err == (
        "nscpy: error: nothing answers on $SYS.REQ.CLAIMS.UPDATE: the server needs a full nats "
        "resolver (or, for per-account subjects, a loaded account) and the user must be in the "
        "system account\n"
    )


def test_stored_system_user(world: World) -> None:
    out = ok(*world.h, "push", "-a", "APP", "--system-user", "sys", *world.u)
    assert out.startswith(f"[ OK ] connecting to {world.server.url} as system user 'sys'\n")


def test_memory_resolver_has_no_claims_update(tmp_path: Path) -> None:
    home = tmp_path / "home"
    build_store(home)
    conf = tmp_path / "mem.conf"
    ok("-H", str(home), "generate", "config", "--mem-resolver", "--config-file", str(conf))
    with serve_config(conf) as server:
        code, _, err = run("-H", str(home), "push", "-A", "-u", server.url, "--timeout", "0.5")
    assert code == 1
    assert err.startswith("nscpy: error: nothing answers on $SYS.REQ.CLAIMS.UPDATE: the server ")


def test_temporary_user_signed_by_a_system_signing_key(tmp_path: Path) -> None:
    from nscpy.actions.workspace import Workspace

    home = tmp_path / "home"
    build_store(home)
    h = ("-H", str(home))
    ok(*h, "edit", "account", "SYS", "--sk", "generate")
    ws = Workspace.open(all_dirs=str(home), env={})
    assert ws.keystore.remove(account_key(home, "SYS"))  # only the signing key's seed is left
    conf = tmp_path / "server.conf"
    ok(*h, "generate", "config", "--nats-resolver", "--dir", str(tmp_path / "jwt"),
       "--config-file", str(conf))  # fmt: skip
    with serve_config(conf) as server:
        out = ok(*h, "push", "-A", "-u", server.url, "--timeout", "0.5", "--expect-servers", "1")
    assert out.startswith(f"[ OK ] connecting to {server.url} as a temporary system user\n")
    assert out.endswith("[ OK ] pushed 2 accounts to a total of 1 nats-server\n")
