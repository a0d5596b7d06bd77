"""From a parsed nats-server config to ServerOptions and an authenticator.

Every key is either used, or known to be harmless here (logging), or refused with its line
number: a setting the stub does not implement must never be silently ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from server_stub.auth import GLOBAL_ACCOUNT, ConfigAuth, User
from server_stub.configpaths import config_path
from server_stub.confparse import ConfMap, duration, parse_file
from server_stub.errors import ConfigError
from server_stub.options import AccountSpec, ServerOptions, TLSOptions, WebSocketOptions
from server_stub.policy import Permissions, ResponsePermission

_LOGGING = {"debug", "trace", "trace_verbose", "logtime", "log_file", "pid_file"}
_TOP = {
    "listen", "port", "host", "net", "server_name", "max_payload", "max_connections",
    "max_conn", "max_control_line", "max_pending", "ping_interval", "ping_max",
    "write_deadline", "authorization", "accounts", "system_account", "tls", "jetstream",
    "operator", "operators", "resolver", "resolver_preload", "no_auth_user",
    "lame_duck_duration", "lame_duck_grace_period", "http", "http_port", "monitor_port",
    "http_base_path", "https", "https_port", "websocket",
} | _LOGGING  # fmt: skip
_TLS = {"cert_file", "key_file", "ca_file", "verify", "timeout", "handshake_first"}
_AUTHZ = {
    "token", "user", "username", "password", "pass", "users", "timeout", "permissions",
    "default_permissions", "auth_callout",
}  # fmt: skip
_USER = {"user", "username", "password", "pass", "nkey", "permissions"}
_PERMS = {"publish", "subscribe", "allow_responses", "pub", "sub"}
_ACCOUNT = {"users", "exports", "imports", "jetstream"}
_WEBSOCKET = {
    "listen", "port", "host", "net", "no_tls", "tls", "handshake_timeout", "compression",
    "compress", "same_origin", "allowed_origins", "advertise",
}  # fmt: skip
# Every block's keys: tests/server_stub/test_config_keys.py walks them, each honoured or refused
KNOWN_KEYS: dict[str, set[str]] = {
    "server": _TOP,
    "tls": _TLS,
    "authorization": _AUTHZ,
    "user": _USER,
    "permissions": _PERMS,
    "account": _ACCOUNT,
    "websocket": _WEBSOCKET,
}


def _check_keys(block: Any, known: set[str], what: str) -> ConfMap:
    if not isinstance(block, ConfMap):
        raise ConfigError(f"{what} must be a map {{...}}, got {block!r}")
    for key in block:
        if key not in known and key not in block.variables:
            raise ConfigError(
                f"{block.where(key)}: unknown {what} option {key!r}"
                f" (server_stub knows: {', '.join(sorted(known))})"
            )
    return block


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{what} must be an integer (sizes like 1MB allowed), got {value!r}")
    return value


def _strings(value: Any, what: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(f"{what} must be a subject or a list of subjects, got {value!r}")


def _allow_deny(value: Any, what: str) -> tuple[list[str] | None, list[str] | None]:
    if isinstance(value, dict):
        _check_keys(value, {"allow", "deny"}, what)
        allow = _strings(value["allow"], what) if "allow" in value else None
        deny = _strings(value["deny"], what) if "deny" in value else None
        return allow, deny
    return _strings(value, what), None


def permissions(block: Any) -> Permissions:
    """A `permissions {}` block: publish/subscribe (list or {allow, deny}), allow_responses."""
    block = _check_keys(block, _PERMS, "permissions")
    pub = block.get("publish", block.get("pub"))
    sub = block.get("subscribe", block.get("sub"))
    pub_allow, pub_deny = _allow_deny(pub, "publish") if pub is not None else (None, None)
    sub_allow, sub_deny = _allow_deny(sub, "subscribe") if sub is not None else (None, None)
    resp = block.get("allow_responses")
    response: ResponsePermission | None = None
    if resp is True:
        response = ResponsePermission()
    elif isinstance(resp, dict):
        _check_keys(resp, {"max", "expires"}, "allow_responses")
        response = ResponsePermission(
            _int(resp.get("max", 1), "allow_responses max"),
            duration(resp.get("expires", "2m"), "allow_responses expires"),
        )
    return Permissions(pub_allow, pub_deny, sub_allow, sub_deny, response)


def _either(block: ConfMap, names: tuple[str, str]) -> Any:
    """The value of a key nats-server accepts under two names (user/username, password/pass)."""
    present = [name for name in names if name in block]
    if len(present) > 1:
        raise ConfigError(f"{block.where(present[1])}: give {names[0]!r} or {names[1]!r}, not both")
    return block[present[0]] if present else None


_USER_KEYS = ("user", "username")
_PASSWORD_KEYS = ("password", "pass")


def _users(entries: Any, account: str, default: Permissions | None) -> list[User]:
    if not isinstance(entries, list):
        raise ConfigError(f"users must be a list [...], got {entries!r}")
    out = []
    for entry in entries:
        entry = _check_keys(entry, _USER, "user")
        perms = permissions(entry["permissions"]) if "permissions" in entry else default
        if "nkey" in entry:
            out.append(
                User(account, str(entry["nkey"]), nkey=str(entry["nkey"]), permissions=perms)
            )
        elif _either(entry, _USER_KEYS) is not None:
            password = _password(entry)
            name = str(_either(entry, _USER_KEYS))
            out.append(User(account, name, password=password, permissions=perms))
        else:
            raise ConfigError(f"{entry.source}: a user needs 'user' and 'password', or 'nkey'")
    return out


def _password(block: ConfMap) -> str:
    password = _either(block, _PASSWORD_KEYS)
    text = "" if password is None else str(password)
    if text.startswith("$2"):
        key = "password" if "password" in block else "pass"
        raise ConfigError(f"{block.where(key)}: bcrypt passwords are not supported by server_stub")
    return text


def _listen(conf: ConfMap, options: ServerOptions) -> None:
    if "listen" in conf:
        host, _, port = str(conf["listen"]).rpartition(":")
        if not port.isdigit():
            raise ConfigError(f"{conf.where('listen')}: listen must be host:port, got {port!r}")
        options.port = int(port)
        if host:
            options.host = host
    if "port" in conf:
        options.port = _int(conf["port"], "port")
    if options.port == -1:  # nats-server's RANDOM_PORT
        options.port = 0
    if not 0 <= options.port <= 65535:
        where = conf.where("port") if "port" in conf else conf.where("listen")
        raise ConfigError(f"{where}: port must be 0 to 65535 (or -1 for any), got {options.port}")
    for key in ("host", "net"):
        if key in conf:
            options.host = str(conf[key])


def build(conf: ConfMap) -> ServerOptions:
    """ServerOptions from a parsed config."""
    _check_keys(conf, _TOP, "server")
    options = ServerOptions()
    _listen(conf, options)
    options.server_name = str(conf.get("server_name", ""))
    for key, attr in (
        ("max_payload", "max_payload"),
        ("max_connections", "max_connections"),
        ("max_conn", "max_connections"),
        ("max_control_line", "max_control_line"),
        ("max_pending", "max_pending"),
        ("ping_max", "ping_max"),
    ):
        if key in conf:
            setattr(options, attr, _int(conf[key], key))
    _logging(conf, options)
    _lame_duck(conf, options)
    _monitoring(conf, options)
    if "websocket" in conf:
        options.websocket = _websocket(conf["websocket"])
    if "ping_interval" in conf:
        options.ping_interval = duration(conf["ping_interval"], "ping_interval")
    if "write_deadline" in conf:
        options.write_deadline = duration(conf["write_deadline"], "write_deadline")
    if "tls" in conf:
        options.tls = _tls(conf["tls"])
        # nats-server's default auth timeout with TLS is the TLS timeout plus one second
        # (getDefaultAuthTimeout); an authorization { timeout } set below still wins
        options.auth_timeout = options.tls.timeout + 1.0
    if "jetstream" in conf:
        options.jetstream = _jetstream_block(conf)
    if any(key in conf for key in ("operator", "operators", "resolver", "resolver_preload")):
        from server_stub.operator import build_operator

        if "authorization" in conf or "accounts" in conf:
            key = "authorization" if "authorization" in conf else "accounts"
            raise ConfigError(
                f"{conf.where(key)}: operator mode takes users from JWTs;"
                " remove authorization/accounts"
            )
        if "no_auth_user" in conf:  # nats-server: "not compatible with Trusted Operator"
            raise ConfigError(
                f"{conf.where('no_auth_user')}: no_auth_user is not compatible with operator mode"
            )
        options.operator = build_operator(conf)
        options.authorization = options.operator
        options.system_account = options.operator.system_account
        return options
    _config_auth(conf, options)
    return options


def _config_auth(conf: ConfMap, options: ServerOptions) -> None:
    users: list[User] = []
    token = None
    if "accounts" in conf:
        accounts = conf["accounts"]
        if not isinstance(accounts, ConfMap):
            raise ConfigError(f"{conf.where('accounts')}: accounts must be a map")
        for name, block in accounts.items():
            block = _check_keys(block, _ACCOUNT, "account")
            spec = AccountSpec(name, block.get("exports", []), block.get("imports", []))
            if "jetstream" in block:
                spec.jetstream = _account_jetstream(block, name)
            options.accounts.append(spec)
            users += _users(block.get("users", []), name, None)
    if "system_account" in conf:
        options.system_account = str(conf["system_account"])
    if "authorization" in conf:
        authz = _check_keys(conf["authorization"], _AUTHZ, "authorization")
        default = None
        for key in ("permissions", "default_permissions"):
            if key in authz:
                default = permissions(authz[key])
        if "token" in authz:
            token = str(authz["token"])
        if _either(authz, _USER_KEYS) is not None:
            name = str(_either(authz, _USER_KEYS))
            users.append(User(GLOBAL_ACCOUNT, name, _password(authz), None, default))
        users += _users(authz.get("users", []), GLOBAL_ACCOUNT, default)
        if "timeout" in authz:
            options.auth_timeout = duration(authz["timeout"], "authorization timeout")
    no_auth_user = _no_auth_user(conf, users)
    if users or token is not None:
        options.authorization = ConfigAuth(users, token, no_auth_user)
    if "authorization" in conf and "auth_callout" in conf["authorization"]:
        if no_auth_user is not None:
            raise ConfigError(
                f"{conf.where('no_auth_user')}: no_auth_user with auth_callout is not supported"
                " by server_stub"
            )
        from server_stub.callout import ConfigCalloutAuth, parse_auth_callout

        callout = parse_auth_callout(conf["authorization"]["auth_callout"])
        options.authorization = ConfigCalloutAuth(options.authorization or ConfigAuth([]), callout)


def _jetstream_block(conf: ConfMap) -> dict[str, Any] | None:
    """The server's `jetstream` value as nats-server reads it: a block, true / "enabled",
    or false / "disabled" (None: JetStream off); `enabled: false` in a block turns it off."""
    value = conf["jetstream"]
    if isinstance(value, dict):
        block = dict(value)
        enabled = block.pop("enabled", block.pop("enable", True))
        if not isinstance(enabled, bool):
            raise ConfigError(f"{conf.where('jetstream')}: jetstream enabled must be true or false")
        return block if enabled else None
    if isinstance(value, bool):
        return {} if value else None
    if isinstance(value, str) and value.lower() in ("enabled", "enable", "disabled", "disable"):
        return {} if value.lower().startswith("enable") else None
    raise ConfigError(
        f"{conf.where('jetstream')}: jetstream must be a block, true/false or enabled/disabled"
    )


def _account_jetstream(block: ConfMap, name: str) -> Any:
    """An account's `jetstream` limits, checked at load time as nats-server does."""
    from server_stub.jetstream.config import account_limits_from_config
    from server_stub.jetstream.errors import JsConfigError

    try:
        return account_limits_from_config(block["jetstream"], name)
    except JsConfigError as exc:
        raise ConfigError(f"{block.where('jetstream')}: {exc}") from None


def _tls(block: Any) -> TLSOptions:
    block = _check_keys(block, _TLS, "tls")
    for key in ("cert_file", "key_file"):
        if key not in block:
            raise ConfigError(f"{block.source}: tls needs {key}")

    def path(key: str) -> Path:
        return config_path(block[key])  # opened at start-up (tls.py)

    return TLSOptions(
        cert_file=path("cert_file"),
        key_file=path("key_file"),
        ca_file=path("ca_file") if "ca_file" in block else None,
        verify=bool(block.get("verify", False)),
        timeout=duration(block.get("timeout", 2), "tls timeout"),
        handshake_first=bool(block.get("handshake_first", False)),
    )


def load(path: Path) -> ServerOptions:
    """Parse and build a config file."""
    return build(parse_file(path))


def _logging(conf: ConfMap, options: ServerOptions) -> None:
    """debug/trace raise the log level (the stub logs no per-message trace), logtime stamps
    lines, log_file and pid_file are written as nats-server writes them."""
    for key in ("debug", "trace", "trace_verbose"):
        if key in conf and _bool(conf, key):
            options.debug = True
    if "logtime" in conf:
        options.logtime = _bool(conf, "logtime")
    for key in ("log_file", "pid_file"):
        if key in conf:
            setattr(options, key, config_path(conf[key]))


def _lame_duck(conf: ConfMap, options: ServerOptions) -> None:
    """lame_duck_duration (30s at least) and lame_duck_grace_period, checked as nats-server."""
    if "lame_duck_duration" in conf:
        value = duration(conf["lame_duck_duration"], "lame_duck_duration")
        if value < 30:
            raise ConfigError(
                f"{conf.where('lame_duck_duration')}: invalid lame_duck_duration of"
                f" {conf['lame_duck_duration']}, minimum is 30 seconds"
            )
        options.lame_duck_duration = value
    if "lame_duck_grace_period" in conf:
        value = duration(conf["lame_duck_grace_period"], "lame_duck_grace_period")
        if value < 0:
            raise ConfigError(
                f"{conf.where('lame_duck_grace_period')}: invalid lame_duck_grace_period,"
                " needs to be positive"
            )
        options.lame_duck_grace_period = value


def _monitoring(conf: ConfMap, options: ServerOptions) -> None:
    """http / http_port / monitor_port and http_base_path; https is refused."""
    for key in ("https", "https_port"):
        if key in conf:
            raise ConfigError(
                f"{conf.where(key)}: {key}: monitoring over TLS is not supported by server_stub"
            )
    for key in ("http_port", "monitor_port"):
        if key in conf:
            options.http_port = _int(conf[key], key)
    if "http" in conf:
        value = conf["http"]
        if isinstance(value, int) and not isinstance(value, bool):
            options.http_port = value
        else:
            host, _, port = str(value).rpartition(":")
            if not port.lstrip("-").isdigit():
                raise ConfigError(f"{conf.where('http')}: http must be host:port, got {value!r}")
            options.http_host, options.http_port = host, int(port)
    if not -1 <= options.http_port <= 65535:
        raise ConfigError(f"http port must be 0 to 65535 (or -1 for any), got {options.http_port}")
    if "http_base_path" in conf:
        options.http_base_path = str(conf["http_base_path"])


def _websocket(value: Any) -> WebSocketOptions | None:
    """The websocket block as nats-server reads it; what the stub lacks is refused."""
    block = _check_keys(value, _WEBSOCKET, "websocket")
    ws = WebSocketOptions()
    if "listen" in block:
        host, _, port = str(block["listen"]).rpartition(":")
        if not port.lstrip("-").isdigit():
            raise ConfigError(f"{block.where('listen')}: listen must be host:port, got {port!r}")
        ws.host, ws.port = host, int(port)
    if "port" in block:
        ws.port = _int(block["port"], "websocket port")
    for key in ("host", "net"):
        if key in block:
            ws.host = str(block[key])
    if "tls" in block:
        ws.tls = _tls(block["tls"])
    elif not (_bool(block, "no_tls") if "no_tls" in block else False):
        raise ConfigError(f"{block.source}: websocket requires TLS configuration (or no_tls: true)")
    if "handshake_timeout" in block:
        ws.handshake_timeout = duration(block["handshake_timeout"], "websocket handshake_timeout")
    for key in ("compression", "compress", "same_origin"):
        if key in block and _bool(block, key):
            raise ConfigError(
                f"{block.where(key)}: websocket {key} is not supported by server_stub"
            )
    if block.get("allowed_origins"):
        raise ConfigError(
            f"{block.where('allowed_origins')}: websocket allowed_origins is not supported by"
            " server_stub"
        )
    if "advertise" in block:  # only gossiped to cluster peers, which the stub does not have
        raise ConfigError(f"{block.where('advertise')}: websocket advertise needs a cluster")
    if not -1 <= ws.port <= 65535:
        raise ConfigError(f"websocket port must be 0 to 65535 (or -1 for any), got {ws.port}")
    return ws if ws.port else None


def _bool(conf: ConfMap, key: str) -> bool:
    value = conf[key]
    if not isinstance(value, bool):
        raise ConfigError(f"{conf.where(key)}: {key} must be true or false, got {value!r}")
    return value


def _no_auth_user(conf: ConfMap, users: list[User]) -> str | None:
    """no_auth_user: a password user of the config (nats-server's validateNoAuthUser)."""
    if "no_auth_user" not in conf:
        return None
    name = str(conf["no_auth_user"])
    where = conf.where("no_auth_user")
    if not users:
        raise ConfigError(f'{where}: no_auth_user: "{name}" present, but users are not defined')
    if not any(u.name == name and u.password is not None for u in users):
        raise ConfigError(
            f'{where}: no_auth_user: "{name}" not present as user in authorization block or'
            " account configuration"
        )
    return name
