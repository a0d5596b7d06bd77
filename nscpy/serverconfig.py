"""nats-server configuration text for operator mode, in the shapes `nsc generate config` emits.

Pure: the caller reads the store and passes the JWTs in; these functions only build text. The
output is meant for `nats-server -c`, so every value that lands in it is checked first: a JWT with
a space or a quote in it would silently produce a config the server parses differently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from nscpy import keys
from nscpy.errors import NscValueError

__all__ = [
    "AccountEntry",
    "ServerConfigError",
    "auth_callout_config",
    "mem_resolver_config",
    "nats_resolver_config",
]

# Three base64url segments: all a compact JWS can contain, and nothing the config parser treats
# as syntax.
_JWT_SHAPE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


class ServerConfigError(NscValueError):
    """The inputs cannot make a valid nats-server configuration."""


@dataclass(frozen=True)
class AccountEntry:
    """One account to preload: its name (for the comment), public key and JWT."""

    name: str
    public_key: str
    jwt: str


def _quote(name: str) -> str:
    # nsc writes names with Go's %q; JSON string quoting agrees for everything printable.
    return json.dumps(name, ensure_ascii=False)


def _comment_safe(name: str) -> str:
    # `#` comments run to the end of the line, so a newline in a name would leak into the config.
    return " ".join(name.splitlines())


def _check_jwt(what: str, token: str) -> str:
    if not token:
        raise ServerConfigError(f"{what} JWT is empty")
    if not _JWT_SHAPE.match(token):
        raise ServerConfigError(
            f"{what} JWT must be three base64url parts separated by '.', got {token[:20]!r}..."
        )
    return token


def _check_account_key(what: str, public_key: str) -> str:
    if not keys.is_valid_public_key(public_key) or not public_key.startswith("A"):
        raise ServerConfigError(f"{what} must be an account public key (A...), got {public_key!r}")
    return public_key


def _quote_dir(path: str) -> str:
    if not path:
        raise ServerConfigError("resolver dir must not be empty")
    if "\n" in path or "\r" in path:
        raise ServerConfigError(f"resolver dir must be one line, got {path!r}")
    # nsc writes './jwt' in single quotes (a raw string to the parser); fall back to a double-quoted
    # string only when the path itself holds a single quote.
    return f"'{path}'" if "'" not in path else json.dumps(path)


def mem_resolver_config(
    operator_name: str,
    operator_jwt: str,
    system_account: str | None,
    accounts: list[AccountEntry],
) -> str:
    """A MEMORY resolver config with every account preloaded, sorted by public key (nsc's shape)."""
    _check_jwt("operator", operator_jwt)
    if not accounts:
        raise ServerConfigError("a memory resolver config needs at least one account")
    if system_account is not None:
        _check_account_key("system account", system_account)
    seen: set[str] = set()
    for entry in accounts:
        _check_account_key(f"account {entry.name!r} public key", entry.public_key)
        _check_jwt(f"account {entry.name!r}", entry.jwt)
        if entry.public_key in seen:
            raise ServerConfigError(f"account {entry.public_key} is listed twice")
        seen.add(entry.public_key)

    lines = [f"// Operator {_quote(operator_name)}", f"operator: {operator_jwt}"]
    if system_account is not None:
        lines.append(f"system_account: {system_account}")
    lines += ["resolver: MEMORY", "resolver_preload: {"]
    for entry in sorted(accounts, key=lambda e: e.public_key):
        lines.append(f"  // Account {_quote(entry.name)}")
        lines.append(f"  {entry.public_key}: {entry.jwt}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def nats_resolver_config(
    operator_name: str,
    operator_jwt: str,
    system_account_name: str,
    system_account: str,
    system_account_jwt: str,
    cache: bool,
    dir: str = "./jwt",
    allow_delete: bool = False,
) -> str:
    """A full (or, with cache=True, cache) nats-based resolver config preloading only SYS."""
    _check_jwt("operator", operator_jwt)
    _check_account_key("system account", system_account)
    _check_jwt(f"system account {system_account_name!r}", system_account_jwt)

    if cache:
        resolver_body = [
            "    type: cache",
            "    # Directory in which the cached account JWTs are stored (a relative path is",
            "    # relative to the directory the server is started in, not to this file)",
            f"    dir: {_quote_dir(dir)}",
            "    # How long an account JWT stays in the cache before it is looked up again",
            '    ttl: "1h"',
            "    # How long to wait for a lookup reply from a full resolver",
            '    timeout: "1.9s"',
        ]
    else:
        resolver_body = [
            "    type: full",
            "    # Directory in which the account JWTs are stored (a relative path is",
            "    # relative to the directory the server is started in, not to this file)",
            f"    dir: {_quote_dir(dir)}",
            "    # Set to true to let `nscpy push --prune` and `push -R` delete accounts.",
            "    # A full resolver renames a deleted JWT with a .deleted suffix rather than",
            "    # removing it, so an account deleted by mistake can be restored by hand.",
            f"    allow_delete: {'true' if allow_delete else 'false'}",
            "    # How often this server compares its JWTs with a random peer in the cluster",
            "    # and exchanges the ones that differ, so all servers converge.",
            '    interval: "2m"',
            "    # How long to wait for a lookup reply from another server",
            '    timeout: "1.9s"',
        ]

    lines = [
        f"# Operator named {_comment_safe(operator_name)}",
        f"operator: {operator_jwt}",
        f"# System Account named {_comment_safe(system_account_name)}",
        f"system_account: {system_account}",
        "",
        "# configuration of the nats based resolver",
        "resolver {",
        *resolver_body,
        "}",
        "",
        "# Preload the resolver with the system account JWT only. It is not required, but it",
        "# saves bootstrapping the system account; other accounts are pushed, not preloaded.",
        "# To populate the resolver:",
        "# 1) point the operator's account server URL at your servers (it must start with",
        '#    "nats://"), or pass the URL to push with -u.',
        "# 2) push your accounts: nscpy push --all",
        "# 3) prune accounts the store no longer has: nscpy push --prune",
        "#    (this needs allow_delete: true above)",
        "# Later pushes of the system account take precedence over the JWT listed here.",
        "resolver_preload: {",
        f"    {system_account}: {system_account_jwt},",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _config_string(what: str, value: str) -> str:
    if not value or any(c in value for c in "\r\n\0"):
        raise ServerConfigError(f"{what} must be a non-empty single line, got {value!r}")
    return json.dumps(value, ensure_ascii=False)


def auth_callout_config(
    issuer: str,
    callout_account: str,
    auth_user: str,
    auth_password: str,
    target_accounts: list[str],
    xkey: str = "",
) -> str:
    """A config-mode (no operator) server whose clients are decided by an auth callout service.

    The callout account holds the service's own user (the auth user, which bypasses the
    callout); the target accounts are where the service may place clients, by name.
    """
    _check_account_key("auth callout issuer", issuer)
    if xkey and not (keys.is_valid_public_key(xkey) and xkey.startswith("X")):
        raise ServerConfigError(
            f"auth callout xkey must be a curve public key (X...), got {xkey!r}"
        )
    names = [callout_account, *target_accounts]
    if len(set(names)) != len(names):
        raise ServerConfigError(f"account names must be distinct, got {names}")
    user = _config_string("auth user", auth_user)
    lines = [
        "# Clients are authorized by an auth callout service (nscpy callout serve), which",
        f"# connects as {_comment_safe(auth_user)} and signs users with the issuer's account key.",
        "accounts {",
        f"  {_config_string('account name', callout_account)}: {{",
        f"    users: [ {{ user: {user}, password: {_config_string('password', auth_password)} }} ]",
        "  }",
    ]
    lines += [f"  {_config_string('account name', name)}: {{ }}" for name in target_accounts]
    lines += [
        "}",
        "authorization {",
        "  auth_callout {",
        f"    issuer: {issuer}",
        f"    account: {_config_string('account name', callout_account)}",
        f"    auth_users: [ {user} ]",
    ]
    if xkey:
        lines.append(f"    xkey: {xkey}")
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"
