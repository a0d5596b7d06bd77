"""The built-in authorizer for `callout serve --map FILE`: a TOML list of users.

    [[users]]                 # or token = "...", or cert_subject = "CN=..."
    user = "alice"
    password = "s3cret"
    account = "ORDERS"
    allow_pub = ["orders.>"]
    deny_pub = ["orders.secret"]
    allow_sub = ["_INBOX.>"]
    expiry = "1h"

A client matches the first entry whose credentials all match (user and password, token, or the
mTLS certificate subject as an RFC 4514 string); anything else is rejected. Unknown keys are
refused when the file is read, never ignored.
"""

from __future__ import annotations

import hmac
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nscpy import jwt
from nscpy.callout.messages import Allow, AuthRequest, Decision, Reject
from nscpy.errors import NscValueError
from nscpy.values import InvalidValue, parse_go_duration

__all__ = ["MapEntry", "UserMap", "UserMapError", "load_user_map", "parse_user_map"]

_LISTS = ("allow_pub", "deny_pub", "allow_sub", "deny_sub", "tags")
_STRINGS = ("user", "password", "token", "cert_subject", "account", "expiry", "name")
_KNOWN = set(_LISTS) | set(_STRINGS) | {"allow_responses"}


class UserMapError(NscValueError):
    """A map file that cannot be used as written."""


@dataclass
class MapEntry:
    """One `[[users]]` table."""

    account: str
    user: str = ""
    password: str = ""
    token: str = ""
    cert_subject: str = ""
    name: str = ""
    allow_pub: list[str] = field(default_factory=list)
    deny_pub: list[str] = field(default_factory=list)
    allow_sub: list[str] = field(default_factory=list)
    deny_sub: list[str] = field(default_factory=list)
    allow_responses: int = 0
    tags: list[str] = field(default_factory=list)
    expiry_seconds: float = 0.0

    def matches(self, request: AuthRequest) -> bool:
        """True when every credential this entry names matches the request."""
        if self.user and not (request.user == self.user and _same(request.password, self.password)):
            return False
        if self.token and not _same(request.token, self.token):
            return False
        if self.cert_subject and request.client_certificate_subject() != self.cert_subject:
            return False
        return True

    def decision(self, now: float) -> Allow:
        """The grant for a matching client."""
        limits = jwt.UserPermissionLimits()
        limits.set_unlimited()
        limits.pub.allow, limits.pub.deny = list(self.allow_pub), list(self.deny_pub)
        limits.sub.allow, limits.sub.deny = list(self.allow_sub), list(self.deny_sub)
        if self.allow_responses:
            limits.resp = jwt.ResponsePermission(max=self.allow_responses)
        expires = int(now + self.expiry_seconds) if self.expiry_seconds else 0
        return Allow(self.account, limits, expires, self.name, list(self.tags))


def _same(given: str, wanted: str) -> bool:
    return hmac.compare_digest(given.encode(), wanted.encode())


class UserMap:
    """An authorizer over map entries, first match wins."""

    def __init__(self, entries: list[MapEntry]) -> None:
        self.entries = entries

    def __call__(self, request: AuthRequest) -> Decision:
        """Allow the first matching entry; reject everyone else."""
        for entry in self.entries:
            if entry.matches(request):
                return entry.decision(time.time())
        return Reject("unknown user or bad credentials")


def _entry(raw: Any, where: str) -> MapEntry:
    if not isinstance(raw, dict):
        raise UserMapError(f"{where}: expected a table")
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise UserMapError(
            f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KNOWN))})"
        )
    for key in _STRINGS:
        if key in raw and not isinstance(raw[key], str):
            raise UserMapError(f"{where}: {key} must be a string, got {raw[key]!r}")
    for key in _LISTS:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UserMapError(f"{where}: {key} must be a list of strings")
    if not raw.get("account"):
        raise UserMapError(f"{where}: account is required")
    if not (raw.get("user") or raw.get("token") or raw.get("cert_subject")):
        raise UserMapError(f"{where}: name a credential: user+password, token or cert_subject")
    if raw.get("user") and "password" not in raw:
        raise UserMapError(f"{where}: user {raw['user']!r} needs a password")
    responses = raw.get("allow_responses", 0)
    if isinstance(responses, bool) or not isinstance(responses, int) or responses < 0:
        raise UserMapError(f"{where}: allow_responses must be a count >= 0")
    try:
        expiry = parse_go_duration(raw["expiry"]) / 1e9 if "expiry" in raw else 0.0
    except InvalidValue as exc:
        raise UserMapError(f"{where}: expiry: {exc}") from None
    if expiry < 0:
        raise UserMapError(f"{where}: expiry must not be negative")
    kwargs = {k: raw[k] for k in (*_STRINGS, *_LISTS) if k in raw and k != "expiry"}
    return MapEntry(allow_responses=responses, expiry_seconds=expiry, **kwargs)


def parse_user_map(text: str, where: str = "map") -> UserMap:
    """A UserMap from TOML text; UserMapError for anything it does not understand."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserMapError(f"{where}: not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"users"})
    if extra:
        raise UserMapError(f"{where}: unknown top-level key {extra[0]!r} (only [[users]])")
    users = data.get("users", [])
    if not isinstance(users, list) or not users:
        raise UserMapError(f"{where}: needs at least one [[users]] table")
    return UserMap([_entry(raw, f"{where}: users[{i}]") for i, raw in enumerate(users)])


def load_user_map(path: Path) -> UserMap:
    """Read and parse a map file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserMapError(f"cannot read map file {path}: {exc.strerror}") from None
    return parse_user_map(text, str(path))
