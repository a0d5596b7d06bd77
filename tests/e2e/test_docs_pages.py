"""The nsc pages of the NATS docs (nats-io/nats.docs, using-nats/nats-tools/nsc/), replayed with
nscpy in nsc's spellings against a real nats-server 2.15.1, checking what each page says happens.

Deviations from the pages, all about the test machine: every store lives in its own -H directory,
servers listen on a free 127.0.0.1 port (the pages use localhost:4222), and `sub`/`reply` run
with --max-messages so they stop by themselves.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.commands.cliutil import ok, run
from tests.support.cli_e2e import finish, spawn, wait_listening
from tests.support.natsserver import RunningServer, free_port, serve_config

pytestmark = pytest.mark.e2e

Nsc = Callable[..., str]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "nsc"


@pytest.fixture
def nsc(home: Path) -> Nsc:
    """`nsc ARGS` as the pages write it, run as nscpy on this test's store."""
    return lambda *argv: ok("-H", str(home), *argv)


def _server(tmp_path: Path, nsc: Nsc, port: int) -> Iterator[RunningServer]:
    """The basics page's myconfig.cfg: its resolver.conf included, JetStream on."""
    (tmp_path / "resolver.conf").write_text(nsc("generate", "config", "--nats-resolver"))
    conf = tmp_path / "myconfig.cfg"
    conf.write_text(
        "server_name: servertest\n"
        f"listen: 127.0.0.1:{port}\n"
        'jetstream { store_dir: "./js" }\n'
        "include resolver.conf\n"
    )
    with serve_config(conf, port=port) as server:
        yield server


def _sub(home: Path, *argv: str) -> Callable[[], str]:
    """Start `nsc sub ARGS` (bounded); returns a function that waits and gives its stdout."""
    proc = spawn(home, "sub", *argv, "--max-messages", "1", "--timeout", "15")
    wait_listening(proc)

    def done() -> str:
        code, out, err = finish(proc)
        assert code == 0, err
        return out

    return done


def _reply(home: Path, *argv: str) -> Callable[[], str]:
    proc = spawn(home, "reply", *argv, "--max-messages", "1", "--timeout", "15")
    wait_listening(proc)
    return lambda: finish(proc)[1]


@pytest.fixture
def basics(tmp_path: Path, home: Path, nsc: Nsc) -> Iterator[RunningServer]:
    """basics.md up to `nsc push`: operator, account, user, SYS, server, push."""
    port = free_port()
    nsc("add", "operator", "MyOperator")
    nsc("edit", "operator", "--service-url", f"nats://127.0.0.1:{port}")
    nsc("add", "account", "MyAccount")
    nsc("add", "user", "MyUser")
    _describe_as_the_page_does(nsc)
    # the page's error: no system account yet, so the server cannot use the nats resolver
    code, _, err = run("-H", str(home), "generate", "config", "--nats-resolver")
    assert code == 1 and "system account" in err
    nsc("add", "account", "-n", "SYS")
    nsc("edit", "operator", "--system-account", "SYS")
    # `add account` made SYS current (in nsc too), so the page's later `nsc sub --user MyUser`
    # would not find MyUser: the page skips this step, nsc needs it as much as nscpy
    nsc("env", "-a", "MyAccount")
    yield from _server(tmp_path, nsc, port)


def _describe_as_the_page_does(nsc: Nsc) -> None:
    keys = nsc("list", "keys")
    for name in ("MyOperator", " MyAccount", "  MyUser"):
        assert f"│ {name} " in keys
    seeds = nsc("list", "keys", "--show-seeds")
    assert "Seeds Keys" in seeds and re.search(r"│ SO[A-Z2-7]{56} ", seeds)
    assert "Operator ID" in nsc("describe", "operator")
    assert "Account ID" in nsc("describe", "account")
    assert "User ID" in nsc("describe", "user", "MyUser")


def test_basics_page(basics: RunningServer, home: Path, nsc: Nsc) -> None:
    nsc("push", "-a", "MyAccount", "-u", basics.url)
    # Client testing: "Received on [hello]: 'NATS'"
    received = _sub(home, "--user", "MyUser", ">")
    nsc("pub", "--user", "MyUser", "hello", "NATS")
    assert "received on [hello]: 'NATS'" in received()
    # User authorization: the service s and the client c of subject q
    nsc("add", "user", "s", "--allow-pub", "_INBOX.>", "--allow-sub", "q")
    rows = nsc("describe", "user", "s")
    assert re.search(r"│ Pub Allow +│ _INBOX\.> ", rows) and re.search(r"│ Sub Allow +│ q ", rows)
    nsc("add", "user", "c", "--allow-pub", "q", "--allow-sub", "_INBOX.>")
    answered = _reply(home, "--user", "s", "q", "help is here")
    assert "received reply on [q]: 'help is here'" in nsc("req", "--user", "c", "q", "me")
    answered()
    # and the opposite direction is refused by the server
    code, _, err = run("-H", str(home), "req", "--user", "s", "q", "x", "--timeout", "2")
    assert code == 1 and 'permissions violation for publish to "q"' in err
    env = nsc("env")
    assert "Default Operator" in env and "│ MyOperator " in env


def test_streams_page(basics: RunningServer, home: Path, nsc: Nsc) -> None:
    """streams.md: a public stream export, then a private one with an activation."""
    nsc("edit", "account", "-n", "MyAccount", "--conns", "-1")  # select A as the page's "A"
    nsc("add", "export", "--name", "abc", "--subject", "a.b.c.>")
    a_key = json.loads(nsc("describe", "account", "MyAccount", "--json"))["sub"]
    nsc("add", "account", "B")
    nsc("add", "import", "--src-account", a_key, "--remote-subject", "a.b.c.>")
    assert re.search(r"│ a\.b\.c\.> +│ Stream +│ a\.b\.c\.> ", nsc("describe", "account"))
    nsc("add", "user", "b")
    nsc("push", "-A")
    received = _sub(home, "--account", "B", "--user", "b", "a.b.c.>")
    nsc("pub", "--account", "MyAccount", "--user", "MyUser", "a.b.c.hello", "world")
    assert "received on [a.b.c.hello]: 'world'" in received()
    # private export, one activation per importing account
    nsc("add", "export", "--subject", "private.abc.*", "--private", "--account", "MyAccount")
    b_key = json.loads(nsc("describe", "account", "B", "--json"))["sub"]
    assert b_key in nsc("list", "keys", "--account", "B")
    token = home.parent / "activation.jwt"
    nsc("generate", "activation", "--account", "MyAccount", "--target-account", b_key,
        "--subject", f"private.abc.{b_key}", "-o", str(token))  # fmt: skip
    assert "Activation" in nsc("describe", "jwt", "-f", str(token))
    nsc("add", "import", "--account", "B", "--token", str(token))
    assert re.search(rf"│ Stream +│ private\.abc\.{b_key} .*│ No ", nsc("describe", "account", "B"))
    nsc("push", "-A")
    received = _sub(home, "--account", "B", "--user", "b", f"private.abc.{b_key}")
    nsc(
        "tools",
        "pub",
        "--account",
        "MyAccount",
        "--user",
        "MyUser",
        f"private.abc.{b_key}",
        "hello",
    )
    assert f"received on [private.abc.{b_key}]: 'hello'" in received()


def test_services_page(basics: RunningServer, home: Path, nsc: Nsc) -> None:
    """services.md: a public service export, then a private one with a local subject."""
    nsc("add", "export", "--name", "help", "--subject", "help", "--service", "-a", "MyAccount")
    a_key = json.loads(nsc("describe", "account", "MyAccount", "--json"))["sub"]
    nsc("add", "account", "B")
    nsc("add", "import", "--src-account", a_key, "--remote-subject", "help", "--service")
    nsc("add", "user", "b")
    nsc("push", "-A")
    answered = _reply(home, "--account", "MyAccount", "--user", "MyUser", "help", "I will help")
    out = nsc("req", "--account", "B", "--user", "b", "help", "me")
    assert "received reply on [help]: 'I will help'" in out
    answered()
    nsc("add", "export", "--subject", "private.help.*", "--private", "--service", "--account",
        "MyAccount")  # fmt: skip
    b_key = json.loads(nsc("describe", "account", "B", "--json"))["sub"]
    token = home.parent / "activation.jwt"
    nsc("generate", "activation", "--account", "MyAccount", "--target-account", b_key,
        "--subject", f"private.help.{b_key}", "-o", str(token))  # fmt: skip
    nsc("add", "import", "--account", "B", "-u", str(token), "--local-subject", "private.help",
        "--name", "private.help")  # fmt: skip
    nsc("push", "-A")
    answered = _reply(home, "--account", "MyAccount", "--user", "MyUser", "private.help.*",
                      "help is here")  # fmt: skip
    out = nsc("req", "--account", "B", "--user", "b", "private.help", "help_me")
    assert "received reply on [private.help]: 'help is here'" in out
    answered()


def test_signing_keys_page(tmp_path: Path, home: Path, nsc: Nsc) -> None:
    """signing_keys.md: operator and account signing keys by file, then a scoped role."""
    nsc("add", "operator", "O2")
    lines = nsc("generate", "nkey", "--operator", "--store").splitlines()
    op_sk, op_sk_path = lines[1], lines[2].split(" stored ", 1)[1]
    nsc("edit", "operator", "--sk", op_sk)
    assert re.search(rf"│ Signing Keys +│ {op_sk} ", nsc("describe", "operator"))
    nsc("add", "account", "A", "-K", op_sk_path)
    lines = nsc("generate", "nkey", "--account", "--store").splitlines()
    acct_sk, acct_sk_path = lines[1], lines[2].split(" stored ", 1)[1]
    nsc("edit", "account", "--sk", acct_sk, "-K", op_sk_path)
    described = nsc("describe", "account")
    assert re.search(rf"│ Issuer ID +│ {op_sk} ", described) and acct_sk in described
    nsc("add", "user", "U", "-K", acct_sk_path)
    described = nsc("describe", "user")
    a_key = json.loads(nsc("describe", "account", "--json"))["sub"]
    assert re.search(rf"│ Issuer ID +│ {acct_sk} ", described)
    assert re.search(rf"│ Issuer Account +│ {a_key} ", described)
    # scoped signing keys
    nsc("add", "account", "S")
    nsc("edit", "account", "-n", "S", "--sk", "generate")
    scoped = json.loads(nsc("describe", "account", "S", "--json"))["nats"]["signing_keys"][0]
    nsc("edit", "signing-key", "--account", "S", "--role", "service", "--sk", scoped,
        "--allow-sub", "q.>", "--deny-pub", ">", "--allow-pub-response")  # fmt: skip
    nsc("add", "user", "U", "-K", "service", "-a", "S")
    described = nsc("describe", "user", "U", "-a", "S")
    assert "│ Issuer Scoped  │ Yes" in described and re.search(r"│ Sub Allow +│ q\.> ", described)


def test_revocation_page_spellings(basics: RunningServer, home: Path, nsc: Nsc) -> None:
    """revocation.md: `nsc revocations -h`, then a revocation pushed with `nsc push -i`."""
    assert "add-user" in nsc("revocations", "-h")
    nsc("revocations", "add_user", "-a", "MyAccount", "-n", "MyUser")
    assert "Revoked Users for MyAccount" in nsc("revocations", "list_users", "-a", "MyAccount")
    nsc("push", "-i", "-a", "MyAccount")
    code, _, err = run("-H", str(home), "pub", "--user", "MyUser", "x", "y")
    assert code == 1 and "Authorization Violation" in err
