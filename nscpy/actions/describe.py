"""What `describe` shows: claims as labelled rows for people and as JSON for scripts."""

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
from nscpy.values import format_go_duration


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


def _perm_rows(prefix: str, perms: Any) -> list[tuple[str, str]]:
    rows = []
    for label, perm in (("Pub", perms.pub), ("Sub", perms.sub)):
        if perm.allow:
            rows.append((f"{prefix}{label} Allow", ", ".join(perm.allow)))
        if perm.deny:
            rows.append((f"{prefix}{label} Deny", ", ".join(perm.deny)))
    if perms.resp is not None:
        ttl = format_go_duration(perms.resp.ttl) if perms.resp.ttl else "default"
        rows.append((f"{prefix}Response", f"max {perms.resp.max}, ttl {ttl}"))
    return rows


def _limit(value: int) -> str:
    return "Unlimited" if value < 0 else str(value)


def claim_rows(claims: AnyClaims) -> list[tuple[str, str]]:
    """Labelled rows for the common claims and the kind-specific highlights."""
    from nscpy.jwt import AccountClaims, OperatorClaims, UserClaims

    rows: list[tuple[str, str]] = [
        ("Name", claims.name),
        ("Type", claims.claim_type),
        ("Subject", claims.subject),
        ("Issuer", claims.issuer),
        ("Issued", fmt_time(claims.issued_at)),
        ("Not Before", fmt_time(claims.not_before) or "Default"),
        ("Expires", fmt_time(claims.expires) or "Never"),
    ]
    tags = getattr(claims, "tags", None)
    if tags:
        rows.append(("Tags", ", ".join(tags)))
    if isinstance(claims, OperatorClaims):
        if claims.signing_keys:
            rows.append(("Signing Keys", ", ".join(claims.signing_keys)))
        if claims.system_account:
            rows.append(("System Account", claims.system_account))
        if claims.account_server_url:
            rows.append(("Account JWT Server", claims.account_server_url))
        for url in claims.operator_service_urls:
            rows.append(("Service URL", url))
        if claims.strict_signing_key_usage:
            rows.append(("Require Signing Keys", "true"))
    elif isinstance(claims, AccountClaims):
        lim = claims.limits
        rows += [
            ("Max Connections", _limit(lim.conn)),
            ("Max Leaf Node Connections", _limit(lim.leaf)),
            ("Max Data", _limit(lim.data)),
            ("Max Msg Payload", _limit(lim.payload)),
            ("Max Subscriptions", _limit(lim.subs)),
            ("Max Imports", _limit(lim.imports)),
            ("Max Exports", _limit(lim.exports)),
            ("Exports Allows Wildcards", str(lim.wildcards).lower()),
            ("JetStream", "Enabled" if lim.is_js_enabled() else "Disabled"),
        ]
        rows += _perm_rows("Default ", claims.default_permissions)
        for key, scope in sorted(claims.signing_keys.items()):
            rows.append(("Signing Key", key + (f" (scoped: {scope.role})" if scope else "")))
        for key, at in sorted(claims.revocations.items()):
            rows.append(("Revoked", f"{key} at {fmt_time(at)}"))
        for export in claims.exports:
            rows.append(("Export", f"{export.type} {export.subject}"))
        for imp in claims.imports:
            rows.append(("Import", f"{imp.type} {imp.subject} from {imp.account}"))
    elif isinstance(claims, UserClaims):
        if claims.issuer_account:
            rows.append(("Issuer Account", claims.issuer_account))
        rows += _perm_rows("", claims)
        if claims.has_empty_permissions() and claims.issuer_account:
            rows.append(("Permissions", "from the signing key's scope"))
        else:
            rows += [
                ("Max Msg Payload", _limit(claims.payload)),
                ("Max Data", _limit(claims.data)),
                ("Max Subscriptions", _limit(claims.subs)),
            ]
        if claims.bearer_token:
            rows.append(("Bearer Token", "true"))
        if claims.src:
            rows.append(("Source Network", ", ".join(claims.src)))
    return rows


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
