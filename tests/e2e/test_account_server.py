"""The URL resolver end to end: nats-server 2.15.1 reads accounts from `nscpy account-server`,
`nscpy push` POSTs to it, and a pushed revocation reaches the running server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nscpy import keys
from nscpy.accountserver import AccountServer
from nscpy.jwt import decode, encode
from tests.commands.cliutil import ok, run
from tests.support.cli_e2e import build_store, creds, roundtrip
from tests.support.natsserver import free_port, nats_server

pytestmark = pytest.mark.e2e


def _account_server(home: Path, directory: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "nscpy", "-H", str(home), "account-server", "-d", str(directory),
         "-p", str(port), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if line.startswith("serving http://"):
            return proc
        if not line and proc.poll() is not None:
            raise AssertionError(f"account server exited: {proc.returncode}")
    raise AssertionError("account server did not start")


@pytest.fixture
def url_resolver(tmp_path: Path) -> Iterator[tuple[Path, str, int]]:
    """A store whose operator points at a running account server; (home, base URL, nats port)."""
    home = tmp_path / "admin"
    build_store(home)
    h = ("-H", str(home))
    http_port, nats_port = free_port(), free_port()
    base = f"http://127.0.0.1:{http_port}/jwt/v1"
    ok(*h, "edit", "operator", "-u", base)
    sys_creds = tmp_path / "sys.creds"
    ok(*h, "generate", "creds", "-a", "SYS", "-n", "sys", "-o", str(sys_creds))
    server = _account_server(
        home, tmp_path / "jwts", http_port,
        "--notify", f"nats://127.0.0.1:{nats_port}", "--notify-creds", str(sys_creds),
    )  # fmt: skip
    try:
        yield home, base, nats_port
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_push_pull_and_the_url_resolver(url_resolver: tuple[Path, str, int], tmp_path: Path):
    home, base, nats_port = url_resolver
    h = ("-H", str(home))
    op = json.loads(ok(*h, "describe", "operator", "--json"))
    out = ok(*h, "push", "-A")
    assert "pushing to account server" in out and "2 of 2 accounts stored" in out
    config = (
        f"operator: {home / 'O' / 'O.jwt'}\n"
        f"system_account: {op['nats']['system_account']}\n"
        f"resolver: URL({base}/accounts/)\n"
    )
    with nats_server(tmp_path / "srv", config, port=nats_port) as server:
        alice = creds(home, "APP", "alice")
        assert roundtrip(server.url, alice) == b"hi"
        # a revocation pushed to the account server reaches the running server
        ok(*h, "revoke", "user", "-a", "APP", "-n", "alice")
        out = ok(*h, "push", "-a", "APP")
        assert "1 server(s) notified" in out
        with pytest.raises(Exception, match="Authorization Violation|authorization"):
            roundtrip(server.url, alice)
        assert roundtrip(server.url, creds(home, "APP", "bob"), "x") == b"hi"
    # pull reads the same API back
    report = json.loads(ok(*h, "pull", "-A", "--json"))
    assert len(report["accounts"]) == 2
    assert any("already up to date" in s["text"] for s in report["steps"])


def test_add_operator_from_the_account_server(url_resolver: tuple[Path, str, int], tmp_path):
    home, base, _ = url_resolver
    other = ("-H", str(tmp_path / "other"))
    ok(*other, "add", "operator", "-u", f"{base}/operator")
    assert json.loads(ok(*other, "list", "operators", "--json"))[0]["name"] == "O"
    # nsc's NSC_<NAME>_OPERATOR variables name an operator URL
    env = {**os.environ, "NSC_ACME_OPERATOR": f"{base}/operator"}
    argv = [sys.executable, "-m", "nscpy", "-H", str(tmp_path / "third")]
    done = subprocess.run([*argv, "add", "operator", "-u", "acme"], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([*argv, "list", "operators", "--json"], capture_output=True, text=True)
    assert json.loads(listed.stdout)[0]["name"] == "O"


def test_http_push_refuses_what_the_api_cannot_do(url_resolver: tuple[Path, str, int]) -> None:
    home, _, _ = url_resolver
    code, _, err = run("-H", str(home), "push", "-P")
    assert code == 1 and "no list or delete API" in err


def test_the_api_checks_what_it_stores(tmp_path: Path) -> None:
    home = tmp_path / "h"
    build_store(home)
    h = ("-H", str(home))
    op_jwt = (home / "O" / "O.jwt").read_text()
    server = AccountServer(tmp_path / "jwts", op_jwt)
    app = json.loads(ok(*h, "describe", "account", "APP", "--json"))
    token = ok(*h, "describe", "account", "APP", "--raw").strip()
    assert server.handle("GET", f"/jwt/v1/accounts/{app['sub']}").status == 404
    assert server.handle("POST", f"/jwt/v1/accounts/{app['sub']}", token.encode()).status == 200
    got = server.handle("GET", f"/jwt/v1/accounts/{app['sub']}")
    assert got.status == 200 and got.body == token
    assert server.handle("GET", "/jwt/v1/operator").body == op_jwt.strip()
    # an older JWT does not replace a newer one; a foreign operator's account is refused
    op_key = json.loads(ok(*h, "describe", "operator", "--json"))["sub"]
    signer = keys.KeyPair.from_seed((home / "keys" / op_key[0] / op_key[1:3] / f"{op_key}.nk")
                                    .read_text())  # fmt: skip
    claims = decode(token)
    older = encode(claims, signer, iat=claims.issued_at - 100)
    assert server.handle("POST", f"/jwt/v1/accounts/{app['sub']}", older.encode()).status == 409
    assert server.handle("GET", f"/jwt/v1/accounts/{app['sub']}").body == token
    stranger = tmp_path / "s"
    build_store(stranger)
    foreign = ok("-H", str(stranger), "describe", "account", "APP", "--raw").strip()
    foreign_key = json.loads(ok("-H", str(stranger), "describe", "account", "APP", "--json"))
    answer = server.handle("POST", f"/jwt/v1/accounts/{foreign_key['sub']}", foreign.encode())
    assert answer.status == 400 and "not issued by operator" in answer.body
    # the key in the path must be the JWT's subject; garbage is a 400
    assert server.handle("POST", f"/jwt/v1/accounts/{foreign_key['sub']}", b"x.y.z").status == 400
    assert server.handle("POST", f"/jwt/v1/accounts/{app['sub']}", foreign.encode()).status == 400
    assert server.handle("DELETE", f"/jwt/v1/accounts/{app['sub']}").status == 405
    assert server.handle("GET", "/other").status == 404
    listed = server.handle("GET", "/jwt/v1/accounts/")  # nats-server checks this at start-up
    assert listed.status == 200 and app["sub"] in listed.body
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "jwts").iterdir()}
    assert modes[f"{app['sub']}.jwt"] == 0o600 and modes["activations"] == 0o700
    asyncio.run(asyncio.sleep(0))
