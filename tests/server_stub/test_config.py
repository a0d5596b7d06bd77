"""The nats-server config syntax subset and its mapping to ServerOptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from server_stub.auth import ConfigAuth
from server_stub.config import build, load
from server_stub.confparse import duration, parse
from server_stub.errors import ConfigError


def test_syntax_separators_comments_units_variables(tmp_path: Path) -> None:
    (tmp_path / "inc.conf").write_text("server_name: included\n")
    text = """
    # hash comment
    port: 4333 // slash comment
    SECRET = "s3cr3t"
    max_payload 1MB; max_connections = 10k
    include "inc.conf"
    authorization { token: $SECRET, timeout: "1.5s" }
    ping_interval: "2m"
    tls { cert_file: 'c.pem', key_file: "k.pem", verify: true, ca_file: ca.pem }
    jetstream { store_dir: "/tmp/js", max_memory_store: 64MB }
    """
    (tmp_path / "main.conf").write_text(text)
    opts = load(tmp_path / "main.conf")
    assert opts.port == 4333
    assert opts.server_name == "included"
    assert opts.max_payload == 1024 * 1024
    assert opts.max_connections == 10_000
    assert opts.auth_timeout == 1.5
    assert opts.ping_interval == 120
    assert isinstance(opts.authorization, ConfigAuth) and opts.authorization.token == "s3cr3t"
    # relative to the working directory, as nats-server (test_config_keys.py)
    assert opts.tls is not None and opts.tls.verify and opts.tls.cert_file == Path.cwd() / "c.pem"
    assert opts.jetstream == {"store_dir": "/tmp/js", "max_memory_store": 64 * 1024 * 1024}


def test_env_variable_and_arrays() -> None:
    conf = parse('x: $MY_ENV\nl: [a, "b"\n c]', env={"MY_ENV": "7"})
    assert conf["x"] == 7 and conf["l"] == ["a", "b", "c"]
    conf = parse("P = 4999\nport: $P", env={})
    assert build(conf).port == 4999


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port: 1\nbogus_key: 2\n", "<config>:2: unknown server option 'bogus_key'"),
        ("authorization { tokn: x }", "unknown authorization option 'tokn'"),
        ("x: $NOPE", "variable $NOPE is not defined"),
        ("a { b: 1", "missing '}'"),
        ("operator: op.jwt\nresolver: MEMORY", "<config>:1: cannot read operator JWT"),
        ("port: 1\nresolver: MEMORY", "<config>:2: resolver needs an operator JWT"),
        # nats-server refuses it too ("invalid account JWT"): never ignored
        ("port: 1\nresolver_preload { A: x }", "<config>:2: resolver_preload needs an operator"),
        ('s: "open', "unterminated quoted string"),
        ("accounts { A { users [ {user: a, password: '$2a$11$xx'} ] } }", "bcrypt"),
        ("accounts { A { imports [ {stream: {account: B, subject: x}} ] } }", None),
    ],
)
def test_errors_name_the_line(text: str, message: str | None) -> None:
    with pytest.raises(ConfigError) as info:
        opts = build(parse(text, env={}))
        from server_stub.accounts import apply_accounts
        from server_stub.router import Router

        apply_accounts(Router(), opts.accounts, opts.system_account)
    if message:
        assert message in str(info.value)


def test_durations() -> None:
    assert duration("1m30s", "x") == 90
    assert duration(5, "x") == 5
    with pytest.raises(ConfigError, match="duration"):
        duration("soon", "ping_interval")


def test_slow_consumer_limits(tmp_path: Path) -> None:
    # write_deadline was accepted and ignored before issue #10; both limits now reach the server
    defaults = build(parse("port: 1"))
    assert (defaults.write_deadline, defaults.max_pending) == (10.0, 64 * 1024 * 1024)
    opts = build(parse('write_deadline: "2.5s"\nmax_pending: 1MB'))
    assert (opts.write_deadline, opts.max_pending) == (2.5, 1024 * 1024)
    assert build(parse("write_deadline: 3")).write_deadline == 3.0
    with pytest.raises(ConfigError, match="write_deadline must be a duration"):
        build(parse("write_deadline: soon"))


def test_port_range(tmp_path: Path) -> None:
    assert build(parse("port: -1")).port == 0  # nats-server's "any free port"
    with pytest.raises(ConfigError, match="port must be 0 to 65535"):
        build(parse("port: 70000"))
    with pytest.raises(ConfigError, match="port must be 0 to 65535"):
        build(parse('listen: "127.0.0.1:99999"'))


def test_a_port_in_use_is_one_line_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    from server_stub.__main__ import main

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["-p", str(port)]) == 1
    err = capsys.readouterr().err
    assert err == f"server_stub: cannot listen on 127.0.0.1:{port}: Address already in use\n"


@pytest.mark.parametrize(
    "text",
    ["0", "a", "a:", "a: '", 'a: "x', "{" * 3000, "a: " + "[" * 3000, "a { b: [1, {c: ", "include"],
)
def test_broken_config_text_is_a_config_error(text: str, tmp_path: Path) -> None:
    # found by tests/server_stub/test_config_fuzz.py: "0" and "a:" raised IndexError, deep
    # nesting RecursionError (a traceback where the operator needs one line)
    with pytest.raises(ConfigError):
        build(parse(text))


def test_uvloop_without_the_fast_extra_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from server_stub.__main__ import main

    monkeypatch.setitem(sys.modules, "uvloop", None)  # as if nscpy[fast] were not installed
    assert main(["--uvloop", "-p", "0"]) == 1
    err = capsys.readouterr().err
    assert err == "server_stub: --uvloop needs uvloop: pip install 'nscpy[fast]'\n"
