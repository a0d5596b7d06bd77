"""push/pull/tool failures that need no running server: each is one stderr line and exit 1 or 2."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from nscpy import keys
from nscpy.actions.workspace import Workspace
from nscpy.jwt import decode, encode, peek
from tests.commands.cliutil import fingerprint, ok, run
from tests.support.natsserver import free_port


def _store(home: Path, *, sys: bool = True) -> tuple[str, ...]:
    h = ("-H", str(home))
    ok(*h, "add", "operator", "-n", "O", *(["--sys"] if sys else []))
    ok(*h, "add", "account", "-n", "APP")
    ok(*h, "add", "user", "-a", "APP", "-n", "alice")
    return h


def _key(home: Path, account: str) -> str:
    return peek((home / "O/accounts" / account / f"{account}.jwt").read_text()).subject


@pytest.mark.parametrize("command", [["push", "-A"], ["pull", "-A"], ["push", "--diff"]])
def test_no_server_reachable(tmp_path: Path, command: list[str]) -> None:
    h = _store(tmp_path)
    urls = [f"nats://127.0.0.1:{free_port()}", f"nats://127.0.0.1:{free_port()}"]
    started = time.monotonic()
    code, out, err = run(*h, *command, "-u", ",".join(urls))
    assert time.monotonic() - started < 5
    assert (code, out) == (1, "")
    assert err == (
        f"nscpy: error: no nats-server reachable at {urls[0]}: connection refused; "
        f"{urls[1]}: connection refused\n"
    )


def test_tool_with_no_server_reachable(tmp_path: Path) -> None:
    h = _store(tmp_path)
    url = f"nats://127.0.0.1:{free_port()}"
    code, _, err = run(*h, "tool", "pub", "-a", "APP", "-u", "alice", "--nats", url, "x")
    assert (code, err) == (
        1,
        f"nscpy: error: no nats-server reachable at {url}: connection refused\n",
    )


def test_no_system_account(tmp_path: Path) -> None:
    h = _store(tmp_path, sys=False)
    before = fingerprint(tmp_path)
    for command in (["push", "-A"], ["pull", "-A"]):
        code, out, err = run(*h, *command, "-u", "nats://127.0.0.1:4222")
        assert (code, out) == (1, "")
        assert err == (
            "nscpy: error: operator 'O' names no system account: set one with 'nscpy edit "
            "operator --system-account NAME' or pass --system-account\n"
        )
    assert fingerprint(tmp_path) == before


def test_no_system_seed(tmp_path: Path) -> None:
    h = _store(tmp_path)
    ws = Workspace.open(all_dirs=str(tmp_path), env={})
    sys_key = _key(tmp_path, "SYS")
    assert ws.keystore.remove(sys_key)
    for user in ws.store.list_users("O", "SYS"):
        assert ws.keystore.remove(peek(ws.store.read_user("O", "SYS", user)).subject)
    code, out, err = run(*h, "push", "-A", "-u", "nats://127.0.0.1:4222")
    assert (code, out) == (1, "")
    assert err == (
        f"nscpy: error: no seed for system account 'SYS' ({sys_key}) or an unscoped signing key "
        "of it, and no system user with a stored seed: import one with 'nscpy import keys' or "
        "pass --system-user\n"
    )
    code, _, err = run(*h, "push", "-A", "--system-user", "sys", "-u", "nats://127.0.0.1:4222")
    assert (code, err) == (
        1,
        "nscpy: error: the seed of system user 'sys' is not in the keystore; import it with "
        "'nscpy import keys' or 'nscpy import user'\n",
    )


def test_where_to_push(tmp_path: Path) -> None:
    h = _store(tmp_path)
    code, _, err = run(*h, "push", "-A")
    assert (code, err) == (
        1,
        "nscpy: error: operator 'O' has no account server or service URL: pass -u "
        "nats://HOST:PORT or set one with 'nscpy edit operator -u nats://HOST:PORT'\n",
    )
    # an http(s) URL is an account server (tests/e2e/test_account_server.py): one that is down
    web = f"http://127.0.0.1:{free_port()}/jwt/v1"
    code, _, err = run(*h, "push", "-A", "-u", web)
    assert code == 1 and err.startswith(f"nscpy: error: account server {web}/accounts/A")
    assert err.endswith("cannot be reached: [Errno 111] Connection refused\n")
    code, _, err = run(*h, "push", "-A", "-u", f"{web},nats://127.0.0.1:4222")
    assert (code, err) == (
        1,
        "nscpy: error: pass either nats resolver URLs or one http(s) account server URL\n",
    )
    code, _, err = run(*h, "push", "-A", "-u", "127.0.0.1:4222")
    assert (code, err) == (
        1,
        "nscpy: error: server URL must start with nats://, tls://, ws://, wss:// (a nats-server) "
        "or http(s):// (an account server), got '127.0.0.1:4222'\n",
    )


def test_operator_account_server_url_is_the_default_target(tmp_path: Path) -> None:
    h = _store(tmp_path)
    url = f"tls://127.0.0.1:{free_port()}"
    ok(*h, "edit", "operator", "-u", url)
    code, _, err = run(*h, "push", "-A")
    assert code == 1 and err.startswith(f"nscpy: error: no nats-server reachable at {url}: ")


def test_prechecks_refuse_an_account_of_another_operator(tmp_path: Path) -> None:
    h = _store(tmp_path / "mine")
    _store(tmp_path / "theirs")
    stranger = (tmp_path / "theirs/O/accounts/APP/APP.jwt").read_text()
    (tmp_path / "mine/O/accounts/APP/APP.jwt").write_text(stranger)
    code, out, err = run(*h, "push", "-a", "APP", "-u", "nats://127.0.0.1:4222")
    assert (code, out) == (1, "")
    assert err == (
        "nscpy: error: account 'APP' is not signed by operator 'O' or its signing keys "
        "(pass -F to push anyway)\n"
    )


def test_prechecks_refuse_an_expired_account(tmp_path: Path) -> None:
    h = _store(tmp_path)
    ws = Workspace.open(all_dirs=str(tmp_path), env={})
    claims = decode(ws.store.read_account("O", "APP"))
    operator = ws.keystore.require(claims.issuer)
    now = int(time.time())
    claims.expires = now - 60
    ws.store.write_account(
        "O", "APP", encode(claims, keys.KeyPair.from_seed(operator), iat=now - 120)
    )
    code, _, err = run(*h, "push", "-a", "APP", "-u", "nats://127.0.0.1:4222")
    assert (code, err) == (
        1,
        "nscpy: error: account 'APP' is not valid: claim is expired (pass -F to push anyway)\n",
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["push", "-a", "APP", "-A"], "nscpy: error: pass either -a ACCOUNT or -A, not both\n"),
        (["pull", "-a", "APP", "-A"], "nscpy: error: pass either -a ACCOUNT or -A, not both\n"),
        (
            ["push", "-R", "SYS"],
            "nscpy: error: the system account cannot be removed from the resolver\n",
        ),  # fmt: skip
        (
            ["push", "-R", "nope"],
            "nscpy: error: -R takes a local account name or an account public key, got 'nope'\n",
        ),  # fmt: skip
        (
            ["push", "-a", "NOPE"],
            "nscpy: error: account 'NOPE' does not exist under operator 'O'\n",
        ),  # fmt: skip
    ],
)
def test_flag_problems(tmp_path: Path, argv: list[str], message: str) -> None:
    h = _store(tmp_path)
    assert run(*h, *argv, "-u", "nats://127.0.0.1:4222") == (1, "", message)


@pytest.mark.parametrize(
    "argv",
    [
        ["push", "--timeout", "0"],
        ["push", "--timeout", "61"],
        ["push", "--expect-servers", "0"],
        ["tool", "sub", "x", "--max-messages", "0"],
        ["tool", "pub"],
    ],
)
def test_usage_errors_exit_2(tmp_path: Path, argv: list[str]) -> None:
    code, out, err = run("-H", str(tmp_path), *argv)
    assert (code, out) == (2, "")
    assert err.startswith("nscpy: error: ") and err.count("\n") == 1


def test_prune_refuses_while_a_stored_account_does_not_verify(tmp_path: Path) -> None:
    # pruning deletes server accounts the store lacks: a local JWT that does not verify must not
    # make its account look absent (checked before any connection: no server is needed)
    h = _store(tmp_path)
    path = tmp_path / "O/accounts/APP/APP.jwt"
    head, body, sig = path.read_text().strip().split(".")
    path.write_text(f"{head}.{body}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}\n")
    before = fingerprint(tmp_path)
    code, out, err = run(*h, "push", "-P", "-u", f"nats://127.0.0.1:{free_port()}")
    assert (code, out) == (1, "")
    assert err.startswith("nscpy: error: cannot prune: the stored JWT of 'APP' does not verify")
    assert fingerprint(tmp_path) == before
