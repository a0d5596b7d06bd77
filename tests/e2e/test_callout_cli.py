"""`nscpy callout serve` and `generate config --auth-callout`, driven only through the CLI.

Config mode: the store holds the issuer account; `generate config --auth-callout` writes the
server config; the service runs with that account's seed file and a --map. Operator mode: `edit
authcallout` puts the callout in the account JWT, `push` loads it into a full resolver, and the
service takes its keys from the store with `-a`. Both run on nats-server and on the stub.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import nats
import pytest

from nscpy import keys
from tests.commands.cliutil import ok, run
from tests.server_stub.harness import server
from tests.support.cli_e2e import account_key, creds, finish, spawn

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

MAP = """
[[users]]
user = "alice"
password = "s3cret"
account = "ORDERS"
allow_pub = ["orders.>"]
allow_sub = ["orders.>", "_INBOX.>"]

[[users]]
token = "t0ken"
account = "ORDERS"
allow_pub = ["orders.>"]
allow_sub = ["orders.>", "_INBOX.>"]
"""


def _wait_ready(proc) -> str:
    assert proc.stderr is not None
    for _ in range(200):
        line = proc.stderr.readline()
        if line.startswith("listening for auth requests on"):
            return line
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"callout serve did not start: {finish(proc, 5)}")


async def _clients(url: str, **extra) -> list[str]:
    """alice in (publishes and receives), a wrong password out; the outcomes as text."""
    seen = []
    nc = await nats.connect(url, allow_reconnect=False, **extra)
    sub = await nc.subscribe("orders.>")
    await nc.publish("orders.1", b"hi")
    seen.append((await sub.next_msg(timeout=3)).data.decode())
    await nc.close()
    bad = {**extra}
    if "password" in bad:
        bad["password"] = "wrong"
    else:
        bad["token"] = "wrong"
    try:
        await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, **bad)
    except nats.errors.Error as exc:
        seen.append(str(exc))
    return seen


AUTHORIZER = """
from nscpy.callout import Allow, Reject


def decide(request):
    if (request.user, request.password) == ("alice", "s3cret"):
        return Allow("ORDERS")
    return Reject("not alice")
"""


@pytest.mark.parametrize("source", ["map", "authorizer"])
@pytest.mark.parametrize("kind", ["nats-server", "stub"])
def test_config_mode_generate_config_and_serve(tmp_path: Path, kind: str, source: str):
    home = tmp_path / "home"
    h = ("-H", str(home))
    ok(*h, "add", "operator", "-n", "O")
    ok(*h, "add", "account", "-n", "CALLOUT")
    conf = tmp_path / "server.conf"
    ok(*h, "generate", "config", "--auth-callout", "-a", "CALLOUT", "--auth-password", "pw",
       "--target-account", "ORDERS", "--config-file", str(conf))  # fmt: skip
    issuer = account_key(home, "CALLOUT")
    assert f"issuer: {issuer}" in conf.read_text()
    seed_file = next(home.rglob(f"{issuer}.nk"))
    map_file = tmp_path / "map.toml"
    map_file.write_text(MAP)
    (tmp_path / "my_authorizer.py").write_text(AUTHORIZER)
    decide = (
        ("--map", str(map_file)) if source == "map" else ("--authorizer", "my_authorizer:decide")
    )
    with server(kind, conf) as url:
        proc = spawn(home, "callout", "serve", "-u", url, "--user", "auth", "--password", "pw",
                     "--issuer-seed", str(seed_file), *decide,
                     env={"PYTHONPATH": str(tmp_path)})  # fmt: skip
        try:
            _wait_ready(proc)
            seen = asyncio.run(_clients(url, user="alice", password="s3cret"))
        finally:
            proc.send_signal(signal.SIGTERM)
            code, _, err = finish(proc)
    assert seen == ["hi", "nats: 'Authorization Violation'"]
    assert code == 0, err
    assert "allow client" in err and "-> account ORDERS" in err
    assert "reject client" in err
    assert err.strip().splitlines()[-1] == "stopped: allowed 1, rejected 1, failed 0, invalid 0"


@pytest.mark.parametrize("kind", ["nats-server", "stub"])
def test_operator_mode_edit_authcallout_push_and_serve(tmp_path: Path, kind: str):
    home = tmp_path / "home"
    h = ("-H", str(home))
    ok(*h, "add", "operator", "-n", "O", "--sys")
    ok(*h, "add", "account", "-n", "AUTH")
    ok(*h, "add", "account", "-n", "ORDERS")
    ok(*h, "add", "user", "-a", "AUTH", "-n", "svc")
    ok(*h, "add", "user", "-a", "AUTH", "-n", "sentinel", "--bearer",
       "--deny-pubsub", ">")  # fmt: skip
    ok(*h, "edit", "authcallout", "-a", "AUTH", "--auth-user", "svc",
       "--allowed-account", "ORDERS", "--curve", "generate")  # fmt: skip
    conf = tmp_path / "server.conf"
    ok(*h, "generate", "config", "--nats-resolver", "--dir", str(tmp_path / "jwt"),
       "--config-file", str(conf))  # fmt: skip
    map_file = tmp_path / "map.toml"
    map_file.write_text(MAP)
    with server(kind, conf) as url:
        ok(*h, "push", "-A", "-u", url, "--timeout", "0.5", "--expect-servers", "1")
        proc = spawn(home, "callout", "serve", "-u", url, "-a", "AUTH", "--map", str(map_file))
        try:
            _wait_ready(proc)
            sentinel = creds(home, "AUTH", "sentinel")
            seen = asyncio.run(_clients(url, user_credentials=sentinel, token="t0ken"))
        finally:
            proc.send_signal(signal.SIGTERM)
            code, _, err = finish(proc)
    assert seen == ["hi", "nats: 'Authorization Violation'"]
    assert code == 0, err
    assert f"-> account {account_key(home, 'ORDERS')}" in err or "-> account ORDERS" in err
    assert err.strip().splitlines()[-1] == "stopped: allowed 1, rejected 1, failed 0, invalid 0"


def fails(*argv: str) -> str:
    code, out, err = run(*argv)
    assert code in (1, 2), (code, out, err)
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_serve_refuses_bad_flags(tmp_path: Path):
    home = tmp_path / "home"
    map_file = tmp_path / "map.toml"
    map_file.write_text(MAP)
    base = ("-H", str(home), "callout", "serve", "-u", "nats://127.0.0.1:1")
    err = fails(*base, "--user", "a", "--password", "b", "--issuer-seed", str(map_file))
    assert "pass exactly one of --authorizer MODULE:FUNCTION or --map FILE" in err
    err = fails(*base, "--map", str(map_file), "--user", "a", "--password", "b")
    assert "config mode needs --issuer-seed FILE" in err
    bad_map = tmp_path / "bad.toml"
    bad_map.write_text('[[users]]\nuser = "a"\npassword = "b"\naccount = "X"\ncolour = "red"\n')
    err = fails(*base, "--map", str(bad_map), "--user", "a", "--password", "b",
                "--issuer-seed", str(map_file))  # fmt: skip
    assert "unknown key 'colour'" in err
    err = fails(*base, "--authorizer", "no_such_module_xyz:f", "--user", "a", "--password", "b",
                "--issuer-seed", str(map_file))  # fmt: skip
    assert "cannot import 'no_such_module_xyz'" in err
    seed = tmp_path / "seed"
    seed.write_text(keys.create_pair(keys.Prefix.ACCOUNT).seed)
    err = fails(*base, "--map", str(map_file), "--user", "a", "--password", "b",
                "--issuer-seed", str(seed))  # fmt: skip
    assert err.startswith("nscpy: error: cannot connect to nats://127.0.0.1:1:"), err
