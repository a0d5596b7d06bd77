"""What `describe` looks up: a field by path, a token of any kind with its issues.

The tables for people are nsc's (nscpy.commands.nsc_tables)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.jwt import (
    AnyClaims,
    BadSignature,
    JWTError,
    ValidationResults,
    decode,
    parse_decorated_jwt,
    peek,
)


def fmt_time(ts: int) -> str:
    """Unix seconds as 'YYYY-MM-DD HH:MM:SS UTC', or '' for 0."""
    if not ts:
        return ""
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def field_at(data: Any, path: str) -> Any:
    """A value inside claims JSON by dotted path ('nats.limits.conn', 'nats.pub.allow.0')."""
    current = data
    for part in [p for p in path.strip(".").split(".") if p]:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit():
            index = int(part)
            if not -len(current) <= index < len(current):
                raise UsageProblem(f"field {path!r}: index {index} out of range")
            current = current[index]
        else:
            raise UsageProblem(f"field {path!r}: no {part!r} here")
    return current


@dataclass
class DescribedToken:
    """A token looked at by `describe jwt`: claims, whether the signature holds, issues."""

    claims: AnyClaims
    signature_ok: bool
    problem: str = ""
    issues: list[str] = field(default_factory=list)


def describe_token(text: str, *, now: int) -> DescribedToken:
    """Decode a JWT, decorated JWT or creds text; a bad signature still shows the claims."""
    token = parse_decorated_jwt(text).strip()
    try:
        claims = decode(token)
    except BadSignature as exc:
        try:
            return DescribedToken(peek(token), False, str(exc))
        except JWTError:
            raise ActionError(f"not a valid JWT: {exc}") from None
    except JWTError as exc:
        raise ActionError(f"not a valid JWT: {exc}") from None
    results = ValidationResults()
    claims.validate(results, now=now)
    return DescribedToken(claims, True, "", [i.description for i in results.issues])
