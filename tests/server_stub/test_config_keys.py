"""Every config-file key the stub parses is honoured or refused, never accepted and ignored.

KNOWN_KEYS (server_stub.config) lists each block's keys; CASES gives every one of them a snippet
and what must follow: a check on the built ServerOptions (honoured; end-to-end behaviour is in
the e2e tests) or the ConfigError text (refused). A key added to KNOWN_KEYS without a case here
fails test_every_known_key_has_a_case.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from server_stub.auth import ConfigAuth
from server_stub.config import KNOWN_KEYS, build, load
from server_stub.confparse import parse
from server_stub.errors import ConfigError
from server_stub.options import ServerOptions

Check = Callable[[ServerOptions], Any]
USERS = "authorization { users = [ {user: a, password: p} ] }\n"
WS = "websocket { port: 8480, no_tls: true, "


def _authz(opts: ServerOptions) -> ConfigAuth:
    assert isinstance(opts.authorization, ConfigAuth)
    return opts.authorization


def _user(name: str = "a") -> Check:
    return lambda o: _authz(o).by_name[name]


def _perms(opts: ServerOptions) -> Any:
    return next(iter(_authz(opts).by_name.values())).permissions


# (block, key) -> (config text, check on the options or "!refusal text")
CASES: dict[tuple[str, str], tuple[str, Check | str]] = {
    ("server", "listen"): ("listen: 127.0.0.1:4999", lambda o: o.port == 4999),
    ("server", "port"): ("port: 4998", lambda o: o.port == 4998),
    ("server", "host"): ("host: 127.0.0.2", lambda o: o.host == "127.0.0.2"),
    ("server", "net"): ("net: 127.0.0.3", lambda o: o.host == "127.0.0.3"),
    ("server", "server_name"): ("server_name: n1", lambda o: o.server_name == "n1"),
    ("server", "max_payload"): ("max_payload: 2KB", lambda o: o.max_payload == 2048),
    ("server", "max_connections"): ("max_connections: 5", lambda o: o.max_connections == 5),
    ("server", "max_conn"): ("max_conn: 6", lambda o: o.max_connections == 6),
    ("server", "max_control_line"): ("max_control_line: 512", lambda o: o.max_control_line == 512),
    ("server", "max_pending"): ("max_pending: 1MB", lambda o: o.max_pending == 1 << 20),
    ("server", "ping_interval"): ('ping_interval: "5s"', lambda o: o.ping_interval == 5),
    ("server", "ping_max"): ("ping_max: 7", lambda o: o.ping_max == 7),
    ("server", "write_deadline"): ('write_deadline: "3s"', lambda o: o.write_deadline == 3),
    ("server", "authorization"): ("authorization { token: t }", lambda o: _authz(o).token == "t"),
    ("server", "accounts"): (
        "accounts { A { users [ {user: a, password: p} ] } }",
        lambda o: [a.name for a in o.accounts] == ["A"] and _user()(o).account == "A",
    ),
    ("server", "system_account"): (
        "system_account: SYSTEM",
        lambda o: o.system_account == "SYSTEM",
    ),
    ("server", "tls"): ("tls { cert_file: c, key_file: k }", lambda o: o.tls is not None),
    ("server", "jetstream"): ("jetstream { max_mem: 1MB }", lambda o: o.jetstream is not None),
    ("server", "no_auth_user"): (
        USERS + "no_auth_user: a",
        lambda o: _authz(o).no_auth_user == "a",
    ),
    ("server", "lame_duck_duration"): (
        'lame_duck_duration: "45s"',
        lambda o: o.lame_duck_duration == 45,
    ),
    ("server", "lame_duck_grace_period"): (
        'lame_duck_grace_period: "2s"',
        lambda o: o.lame_duck_grace_period == 2,
    ),
    ("server", "debug"): ("debug: true", lambda o: o.debug),
    ("server", "trace"): ("trace: true", lambda o: o.debug),
    ("server", "trace_verbose"): ("trace_verbose: true", lambda o: o.debug),
    ("server", "logtime"): ("logtime: false", lambda o: o.logtime is False),
    ("server", "log_file"): ("log_file: s.log", lambda o: o.log_file == Path("s.log").absolute()),
    ("server", "pid_file"): ("pid_file: s.pid", lambda o: o.pid_file == Path("s.pid").absolute()),
    ("server", "http"): (
        "http: 127.0.0.2:8444",
        lambda o: (o.http_host, o.http_port) == ("127.0.0.2", 8444),
    ),
    ("server", "http_port"): ("http_port: 8445", lambda o: o.http_port == 8445),
    ("server", "monitor_port"): ("monitor_port: -1", lambda o: o.http_port == -1),
    ("server", "http_base_path"): ("http_base_path: /mon", lambda o: o.http_base_path == "/mon"),
    ("server", "https"): ("https: 8446", "!monitoring over TLS is not supported"),
    ("server", "https_port"): ("https_port: 8446", "!monitoring over TLS is not supported"),
    ("websocket", "port"): (WS + "}", lambda o: o.websocket.port == 8480),
    ("websocket", "listen"): (
        "websocket { listen: 127.0.0.4:8481, no_tls: true }",
        lambda o: (o.websocket.host, o.websocket.port) == ("127.0.0.4", 8481),
    ),
    ("websocket", "host"): (WS + "host: 127.0.0.5 }", lambda o: o.websocket.host == "127.0.0.5"),
    ("websocket", "net"): (WS + "net: 127.0.0.6 }", lambda o: o.websocket.host == "127.0.0.6"),
    ("websocket", "no_tls"): (
        "websocket { port: 8480 }",
        "!websocket requires TLS configuration",
    ),
    ("websocket", "tls"): (
        "websocket { port: 8480, tls { cert_file: c, key_file: k } }",
        lambda o: o.websocket.tls.cert_file.name == "c",
    ),
    ("websocket", "handshake_timeout"): (
        WS + 'handshake_timeout: "5s" }',
        lambda o: o.websocket.handshake_timeout == 5,
    ),
    ("websocket", "compression"): (WS + "compression: true }", "!compression is not supported"),
    ("websocket", "compress"): (WS + "compress: true }", "!compress is not supported"),
    ("websocket", "same_origin"): (WS + "same_origin: true }", "!same_origin is not supported"),
    ("websocket", "allowed_origins"): (
        WS + 'allowed_origins: ["http://x"] }',
        "!allowed_origins is not supported",
    ),
    ("websocket", "advertise"): (WS + "advertise: x:1 }", "!advertise needs a cluster"),
    ("server", "websocket"): (WS + "}", lambda o: o.websocket is not None),
    # operator mode: the values come from a real chain (see _operator_text)
    ("server", "operator"): ("OPERATOR", lambda o: o.operator is not None),
    ("server", "operators"): ("OPERATORS", lambda o: o.operator is not None),
    ("server", "resolver"): ("OPERATOR", lambda o: o.operator.config.resolver is not None),
    ("server", "resolver_preload"): ("OPERATOR", lambda o: len(o.operator.config.preload) == 2),
    ("tls", "cert_file"): (
        "tls { cert_file: c, key_file: k }",
        lambda o: o.tls.cert_file.name == "c",
    ),
    ("tls", "key_file"): (
        "tls { cert_file: c, key_file: k }",
        lambda o: o.tls.key_file.name == "k",
    ),
    ("tls", "ca_file"): (
        "tls { cert_file: c, key_file: k, ca_file: ca }",
        lambda o: o.tls.ca_file.name == "ca",
    ),
    ("tls", "verify"): ("tls { cert_file: c, key_file: k, verify: true }", lambda o: o.tls.verify),
    ("tls", "timeout"): (
        "tls { cert_file: c, key_file: k, timeout: 3 }",
        lambda o: o.tls.timeout == 3,
    ),
    ("tls", "handshake_first"): (
        "tls { cert_file: c, key_file: k, handshake_first: true }",
        lambda o: o.tls.handshake_first,
    ),
    ("authorization", "token"): ("authorization { token: t }", lambda o: _authz(o).token == "t"),
    ("authorization", "user"): ("authorization { user: a, password: p }", _user()),
    ("authorization", "username"): ("authorization { username: a, password: p }", _user()),
    ("authorization", "password"): (
        "authorization { user: a, password: p }",
        lambda o: _user()(o).password == "p",
    ),
    ("authorization", "pass"): (
        "authorization { user: a, pass: p }",
        lambda o: _user()(o).password == "p",
    ),
    ("authorization", "users"): (USERS, _user()),
    ("authorization", "timeout"): (
        "authorization { token: t, timeout: 4 }",
        lambda o: o.auth_timeout == 4,
    ),
    ("authorization", "permissions"): (
        "authorization { user: a, password: p, permissions { publish: x } }",
        lambda o: _perms(o).can_publish("x") and not _perms(o).can_publish("y"),
    ),
    ("authorization", "default_permissions"): (
        "authorization { users [ {user: a, password: p} ], default_permissions { sub: y } }",
        lambda o: _perms(o).can_subscribe("y", None) and not _perms(o).can_subscribe("x", None),
    ),
    ("authorization", "auth_callout"): (
        "authorization { users [ {user: auth, password: p} ], auth_callout {"
        " issuer: ABJHLOVMPA4CI6R5KLNGOB4GSLNIY7IOUPAJC4YFNDLQVIOBYQGUWVLA,"
        ' auth_users: [auth], account: "$G" } }',
        lambda o: type(o.authorization).__name__ == "ConfigCalloutAuth",
    ),
    ("user", "user"): ("authorization { users [ {user: a, password: p} ] }", _user()),
    ("user", "username"): ("authorization { users [ {username: a, password: p} ] }", _user()),
    ("user", "password"): (USERS, lambda o: _user()(o).password == "p"),
    ("user", "pass"): (
        "authorization { users [ {user: a, pass: p} ] }",
        lambda o: _user()(o).password == "p",
    ),
    ("user", "nkey"): (
        "authorization { users [ {nkey: UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4}"
        " ] }",
        lambda o: len(_authz(o).by_nkey) == 1,
    ),
    ("user", "permissions"): (
        "authorization { users [ {user: a, password: p, permissions { pub: z } } ] }",
        lambda o: _perms(o).can_publish("z") and not _perms(o).can_publish("y"),
    ),
    ("permissions", "publish"): (
        "authorization { users [ {user: a, password: p, permissions { publish: { deny: q } } } ] }",
        lambda o: _perms(o).can_publish("r") and not _perms(o).can_publish("q"),
    ),
    ("permissions", "pub"): (
        "authorization { users [ {user: a, password: p, permissions { pub: z } } ] }",
        lambda o: _perms(o).can_publish("z") and not _perms(o).can_publish("y"),
    ),
    ("permissions", "subscribe"): (
        "authorization { users [ {user: a, password: p, permissions { subscribe: s } } ] }",
        lambda o: _perms(o).can_subscribe("s", None) and not _perms(o).can_subscribe("x", None),
    ),
    ("permissions", "sub"): (
        "authorization { users [ {user: a, password: p, permissions { sub: s } } ] }",
        lambda o: _perms(o).can_subscribe("s", None) and not _perms(o).can_subscribe("x", None),
    ),
    ("permissions", "allow_responses"): (
        "authorization { users [ {user: a, password: p,"
        " permissions { allow_responses: true } } ] }",
        lambda o: _perms(o).response is not None,
    ),
    ("account", "users"): ("accounts { A { users [ {user: a, password: p} ] } }", _user()),
    ("account", "exports"): (
        "accounts { A { exports [ {stream: x} ] } }",
        lambda o: o.accounts[0].exports,
    ),
    ("account", "imports"): (
        "accounts { A { imports [ {stream: {account: B, subject: x}} ] }, B {} }",
        lambda o: o.accounts[0].imports,
    ),
    ("account", "jetstream"): (
        "accounts { A { jetstream { max_streams: 1 } } }",
        lambda o: getattr(o.accounts[0], "jetstream", None) is not None,
    ),
}


def _operator_text(tmp_path: Path, key: str) -> str:
    from tests.server_stub.chain import Chain

    chain = Chain.create(tmp_path, "A")
    text = chain.config("op").read_text()
    return text.replace("operator:", "operators:", 1) if key == "operators" else text


ISSUER = "ABJHLOVMPA4CI6R5KLNGOB4GSLNIY7IOUPAJC4YFNDLQVIOBYQGUWVLA"
XKEY = "XAB3NANV3M6N7AHSQP2U5FRWKKUT7EG2ZXXABV4XVXYQRJGM4S2CZGHT"
CALLOUT = "authorization { users [ {user: auth, password: p} ], auth_callout { "


def _callout(o: ServerOptions) -> Any:
    return o.authorization.config


# the resolver block (server_stub.operator) and the auth_callout block (server_stub.callout)
OTHER_CASES: dict[tuple[str, str], tuple[str, Check | str]] = {
    ("resolver", "type"): ("type: cache", lambda o: o.operator.config.resolver.kind == "cache"),
    ("resolver", "dir"): (
        "dir: j",  # relative to the working directory, as nats-server (the test's tmp_path)
        lambda o: o.operator.config.resolver.directory == Path.cwd() / "j",
    ),
    ("resolver", "allow_delete"): (
        "allow_delete: true",
        lambda o: o.operator.config.resolver.allow_delete,
    ),
    ("resolver", "limit"): ("limit: 10", "!resolver limit is not supported"),
    ("callout", "issuer"): (
        f"issuer: {ISSUER}, auth_users: [auth]",
        lambda o: _callout(o).issuer == ISSUER,
    ),
    ("callout", "account"): (
        f"issuer: {ISSUER}, auth_users: [auth], account: A",
        lambda o: _callout(o).account == "A",
    ),
    ("callout", "acc"): (
        f"issuer: {ISSUER}, auth_users: [auth], acc: A",
        lambda o: _callout(o).account == "A",
    ),
    ("callout", "auth_users"): (
        f"issuer: {ISSUER}, auth_users: [auth]",
        lambda o: _callout(o).auth_users == ("auth",),
    ),
    ("callout", "users"): (
        f"issuer: {ISSUER}, users: [auth]",
        lambda o: _callout(o).auth_users == ("auth",),
    ),
    ("callout", "xkey"): (
        f"issuer: {ISSUER}, auth_users: [auth], xkey: {XKEY}",
        lambda o: _callout(o).xkey == XKEY,
    ),
    ("callout", "key"): (
        f"issuer: {ISSUER}, auth_users: [auth], key: {XKEY}",
        lambda o: _callout(o).xkey == XKEY,
    ),
    ("callout", "allowed_accounts"): (
        f"issuer: {ISSUER}, auth_users: [auth], allowed_accounts: [A]",
        lambda o: _callout(o).allowed_accounts == ("A",),
    ),
}


def test_every_known_key_has_a_case() -> None:
    from server_stub import callout, operator

    known = {(block, key) for block, keys in KNOWN_KEYS.items() for key in keys}
    assert known == set(CASES), {"missing": known - set(CASES), "stale": set(CASES) - known}
    # peer-only resolver settings: accepted with no effect on one server, as nats-server
    resolver = operator._RESOLVER_KEYS - operator.SINGLE_SERVER_RESOLVER_KEYS
    other = {("resolver", k) for k in resolver} | {("callout", k) for k in callout._KEYS}
    assert other == set(OTHER_CASES)


@pytest.mark.parametrize(("block", "key"), sorted(OTHER_CASES), ids=lambda v: str(v))
def test_resolver_and_callout_keys_honoured_or_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: str, key: str
) -> None:
    monkeypatch.chdir(tmp_path)  # the resolver dir is made in the working directory at load
    text, check = OTHER_CASES[(block, key)]
    if block == "resolver":
        base = _operator_text(tmp_path, "operator").replace(
            "resolver: MEMORY", f"resolver {{ {text} }}"
        )
    else:
        base = CALLOUT + text + " } }"
    conf = tmp_path / "t.conf"
    conf.write_text(base + "\n")
    if isinstance(check, str):
        with pytest.raises(ConfigError, match=check.removeprefix("!")):
            load(conf)
        return
    assert check(load(conf)), f"{block}.{key} was accepted but did not reach the options"


@pytest.mark.parametrize(("block", "key"), sorted(CASES), ids=lambda v: str(v))
def test_key_is_honoured_or_refused(tmp_path: Path, block: str, key: str) -> None:
    text, check = CASES[(block, key)]
    if text.startswith("OPERATOR"):
        text = _operator_text(tmp_path, "operators" if text == "OPERATORS" else "operator")
    conf = tmp_path / "t.conf"
    conf.write_text(text + "\n")
    if isinstance(check, str):
        with pytest.raises(ConfigError, match=check.removeprefix("!")):
            load(conf)
        return
    opts = load(conf)
    assert check(opts), f"{block}.{key} was accepted but did not reach the options"


def test_checks_fail_on_defaults() -> None:
    """A check that already holds for the default options could not see the key ignored."""
    for (block, key), (_, check) in CASES.items():
        if isinstance(check, str):
            continue
        try:
            holds = bool(check(ServerOptions()))
        except (AssertionError, AttributeError, IndexError, KeyError, StopIteration, TypeError):
            holds = False
        assert not holds, f"{block}.{key}: its check holds without the key"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "authorization { users [ {user: a, password: p, account: A} ] }",
            "unknown user option 'account'",
        ),
        ("syslog: true", "unknown server option 'syslog'"),
        ("authorization { user: a, password: p, pass: q }", "give 'password' or 'pass', not both"),
        ("no_auth_user: a", 'no_auth_user: "a" present, but users are not defined'),
        (USERS + "no_auth_user: b", 'no_auth_user: "b" not present as user'),
        ('lame_duck_duration: "10s"', "minimum is 30 seconds"),
        ("debug: 1", "debug must be true or false"),
    ],
)
def test_refusals(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build(parse(text, env={}))


def test_no_auth_user_refused_in_operator_mode(tmp_path: Path) -> None:
    conf = tmp_path / "t.conf"
    conf.write_text(_operator_text(tmp_path, "operator") + "no_auth_user: a\n")
    with pytest.raises(ConfigError, match="no_auth_user is not compatible with operator mode"):
        load(conf)


def test_brace_on_the_next_line_and_newline_after_the_key() -> None:
    """nats-server's lexer skips any whitespace, newlines too, after a key."""
    conf = parse("authorization\n{\n  token: t\n}\nport\n= 4321\nserver_name\n  n\n", env={})
    assert conf["authorization"] == {"token": "t"}
    assert conf["port"] == 4321 and conf["server_name"] == "n"
    assert conf.lines == {"authorization": 1, "port": 5, "server_name": 7}


def test_tls_paths_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    """nats-server opens tls files as given (its working directory), not beside the config."""
    confdir = tmp_path / "conf"
    confdir.mkdir()
    (confdir / "t.conf").write_text("tls { cert_file: certs/c.pem, key_file: k.pem }\n")
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        opts = load(confdir / "t.conf")
    finally:
        os.chdir(cwd)
    assert opts.tls is not None
    assert opts.tls.cert_file == tmp_path / "certs" / "c.pem"
    assert opts.tls.key_file == tmp_path / "k.pem"
