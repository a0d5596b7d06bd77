"""`describe` tables laid out as nsc prints them (its `cmd/describer.go`), without click.

The NATS docs show these tables and scripts copied from them grep the labels ("Account ID",
"Issuer ID", "Operator Service URLs", the export and import columns), so the labels, the
section breaks and the value wording ("Unlimited", "Not Set", "Yes"/"No") are nsc's. The
layout is the box of nscpy.commands.output.boxed. `--json` is unaffected: it prints the payload.
A user signed by a scoped key shows the scope's permissions and limits below its own table,
which nsc leaves to a second `describe account`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nscpy.actions.describe import fmt_time as render_date
from nscpy.commands.output import boxed

if TYPE_CHECKING:
    from nscpy.jwt import (
        AccountClaims,
        ActivationClaims,
        AnyClaims,
        Export,
        Import,
        OperatorClaims,
        UserClaims,
        UserScope,
    )
    from nscpy.jwt.account import JetStreamLimits
    from nscpy.jwt.permissions import Permissions, UserPermissionLimits

Row = tuple[str, str] | None  # None: a separator line
SEP: Row = None


def human_bytes(n: int) -> str:
    """go-humanize's Bytes (SI units): 1000 -> '1.0 kB', 1073741824 -> '1.1 GB'."""
    if n < 10:
        return f"{n} B"
    sizes = ("B", "kB", "MB", "GB", "TB", "PB", "EB")
    exp = min(int(math.floor(math.log(n) / math.log(1000))), len(sizes) - 1)
    value = math.floor(n / 1000**exp * 10 + 0.5) / 10
    return f"{value:.1f} {sizes[exp]}" if value < 10 else f"{value:.0f} {sizes[exp]}"


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def _listed(label: str, values: Sequence[str]) -> list[Row]:
    """nsc's AddListValues: the label on the first value's row only."""
    return [(label if i == 0 else "", v) for i, v in enumerate(values)]


def _go_duration(ns: int) -> str:
    from nscpy.values import format_go_duration

    return format_go_duration(ns)


def _standard(claims: AnyClaims, label: str, issuer_account: str = "") -> list[Row]:
    rows: list[Row] = []
    if claims.name:
        rows.append(("Name", claims.name))
    rows += [(label, claims.subject), ("Issuer ID", claims.issuer)]
    if issuer_account:
        rows.append(("Issuer Account", issuer_account))
    rows += [("Issued", render_date(claims.issued_at)), ("Expires", render_date(claims.expires))]
    return rows + _listed("Tags", list(getattr(claims, "tags", None) or []))


def _permissions(perms: Permissions) -> list[Row]:
    rows: list[Row] = []
    if perms.pub.allow or perms.pub.deny or perms.sub.allow or perms.sub.deny:
        rows.append(SEP)
        rows += _listed("Pub Allow", perms.pub.allow)
        rows += _listed("Pub Deny", perms.pub.deny)
        rows += _listed("Sub Allow", perms.sub.allow)
        rows += _listed("Sub Deny", perms.sub.deny)
    if perms.resp is None:
        rows.append(("Response Permissions", "Not Set"))
    else:
        rows += [
            ("Max Responses", str(perms.resp.max)),
            ("Response Permission TTL", _go_duration(perms.resp.ttl)),
        ]
    return rows


def _limits(lim: UserPermissionLimits) -> list[Row]:
    def sized(n: int) -> str:
        return f"{n} bytes (≈{human_bytes(n)})" if n > 0 else "Unlimited"

    rows: list[Row] = [
        ("Max Msg Payload", sized(lim.payload)),
        ("Max Data", sized(lim.data)),
        ("Max Subs", str(lim.subs) if lim.subs > 0 else "Unlimited"),
        ("Network Src", ", ".join(lim.src) if lim.src else "Any"),
    ]
    spans = [f"{t.start}-{t.end}" for t in lim.times]
    rows += _listed("Time", spans) if spans else [("Time", "Any")]
    return rows


def _user_body(limits: UserPermissionLimits) -> list[Row]:
    rows: list[Row] = [("Bearer Token", _yes_no(limits.bearer_token))]
    rows += _permissions(limits)
    rows += [SEP, *_limits(limits)]
    if limits.allowed_connection_types:
        rows += [SEP, *_listed("Allowed Connection Types", limits.allowed_connection_types)]
    return rows


def describe_operator(claims: OperatorClaims) -> str:
    """nsc's 'Operator Details' table."""
    rows = _standard(claims, "Operator ID")
    if claims.account_server_url:
        rows.append(("Account JWT Server", claims.account_server_url))
    rows += _listed("Operator Service URLs", claims.operator_service_urls)
    if claims.system_account:
        rows.append(("System Account", claims.system_account))
    rows.append(("Require Signing Keys", str(claims.strict_signing_key_usage).lower()))
    if claims.signing_keys:
        rows += [SEP, *_listed("Signing Keys", claims.signing_keys)]
    return boxed("Operator Details", rows)


def _limit(n: int) -> str:
    return str(n) if n > -1 else "Unlimited"


def _bytes_limit(n: int) -> str:
    return f"{human_bytes(n)} ({n} bytes)" if n > -1 else "Unlimited"


def _js_rows(lim: JetStreamLimits) -> list[Row]:
    def storage(n: int) -> str:
        return human_bytes(n) if n > 0 else ("Disabled" if n == 0 else "Unlimited")

    return [
        ("Max Disk Storage", storage(lim.disk_storage)),
        ("Max Mem Storage", storage(lim.mem_storage)),
        ("Max Streams", _limit(lim.streams) if lim.streams > 0 else "Unlimited"),
        ("Max Consumers", _limit(lim.consumer) if lim.consumer > 0 else "Unlimited"),
        (
            "Max Ack Pending",
            _limit(lim.max_ack_pending) if lim.max_ack_pending > 0 else "Consumer Setting",
        ),
        (
            "Max Bytes",
            f"{'required' if lim.max_bytes_required else 'optional'} (Stream setting)",
        ),
        (
            "Max Memory Stream",
            _bytes_limit(lim.mem_max_stream_bytes) if lim.mem_max_stream_bytes > 0 else "Unlimited",
        ),
        (
            "Max Disk Stream",
            _bytes_limit(lim.disk_max_stream_bytes)
            if lim.disk_max_stream_bytes > 0
            else "Unlimited",
        ),
    ]


def _account_table(claims: AccountClaims) -> str:
    rows = [*_standard(claims, "Account ID"), SEP]
    info = []
    if claims.description:
        info.append(("Description", claims.description.replace("\n", " ")))
    if claims.info_url:
        info.append(("Info Url", claims.info_url))
    rows += [*info, SEP] if info else []
    if claims.signing_keys:
        rows += [*_listed("Signing Keys", list(claims.signing_keys)), SEP]
    auth = claims.authorization
    if auth.auth_users:
        rows += _listed("Auth Callout Users", auth.auth_users)
        rows += _listed("Allowed Accounts", auth.allowed_accounts)
        rows += [("Encrypt For", auth.xkey)] if auth.xkey else []
        rows.append(SEP)
    lim = claims.limits
    leaf = "Not Allowed" if lim.leaf == 0 else _limit(lim.leaf)
    rows += [
        ("Max Connections", _limit(lim.conn)),
        ("Max Leaf Node Connections", leaf),
        ("Max Data", _bytes_limit(lim.data)),
        ("Max Exports", _limit(lim.exports)),
        ("Max Imports", _limit(lim.imports)),
        ("Max Msg Payload", _bytes_limit(lim.payload)),
        ("Max Subscriptions", _limit(lim.subs)),
        ("Exports Allows Wildcards", str(lim.wildcards).title()),
        ("Disallow Bearer Token", str(lim.disallow_bearer).title()),
    ]
    rows += _permissions(claims.default_permissions)
    rows.append(SEP)
    if not lim.is_js_enabled():
        rows.append(("Jetstream", "Disabled"))
    elif not lim.tiered_limits:
        rows += [("Jetstream", "Enabled"), *_js_rows(lim.jetstream)]
    else:
        for n, (tier, tier_limits) in enumerate(lim.tiered_limits.items()):
            rows += [SEP] if n else []
            rows += [("Jetstream Tier", tier), *_js_rows(tier_limits)]
    rows.append(SEP)
    rows += [] if claims.imports else [("Imports", "None")]
    rows += [] if claims.exports else [("Exports", "None")]
    if claims.revocations:
        rows += [SEP, ("Revocations", str(len(claims.revocations)))]
    rows.append(SEP)
    if claims.trace is None:
        rows.append(("Tracing Context", "Disabled"))
    else:
        sampling = f"{claims.trace.sampling}%" if claims.trace.sampling else "100%"
        rows += [
            ("Tracing Context", "Enabled"),
            ("Subject", claims.trace.dest),
            ("Sampling", sampling),
        ]
    return boxed("Account Details", _tidy(rows))


def _export_row(e: Export) -> tuple[str, ...]:
    tracking, response = "N/A", ""
    if e.is_service():
        tracking = f"{e.latency.results} ({e.latency.sampling}%)" if e.latency else "-"
        if e.response_type in ("Stream", "Chunked"):
            response = f" [{e.response_type}]"
    return (
        e.name,
        e.type.title() + response,
        e.subject,
        str(e.account_token_position) if e.account_token_position > 0 else "-",
        _yes_no(not e.token_req),
        str(len(e.revocations)),
        tracking,
        "N/A" if e.is_stream() else _yes_no(e.allow_trace),
    )


def describe_exports(exports: Sequence[Export]) -> str:
    """nsc's 'Exports' table (and 'Exports - Descriptions' when any export has one)."""
    headers = [
        "Name",
        "Type",
        "Subject",
        "Account Token Position",
        "Public",
        "Revocations",
        "Tracking",
        "Allow Trace",
    ]
    text = boxed("Exports", [_export_row(e) for e in exports], headers)
    described = [
        (e.name, e.description.replace("\n", " "), e.info_url)
        for e in exports
        if e.description or e.info_url
    ]
    if described:
        headers = ["Name", "Description", "Info Url"]
        text += "\n" + boxed("Exports - Descriptions", described, headers)
    return text


def _import_row(i: Import, activation_expiry: str) -> tuple[str, ...]:
    remote, local = i.subject, i.local_subject
    if i.is_service() and i.to:  # the deprecated `to` names the local side of a service
        local, remote = remote, i.to
    return (
        i.name,
        i.type.title(),
        remote,
        local,
        activation_expiry,
        i.account,
        _yes_no(not i.token),
        "N/A" if i.is_service() else _yes_no(i.allow_trace),
    )


def _activation_expiry(token: str) -> str:
    if not token:
        return ""
    if token.startswith(("http://", "https://")):
        return "(activation at a URL)"
    from nscpy.jwt import JWTError, decode

    try:
        return render_date(decode(token).expires)
    except JWTError as exc:
        return f"error decoding: {exc}"


def describe_imports(imports: Sequence[Import]) -> str:
    """nsc's 'Imports' table."""
    headers = ["Name", "Type", "Remote", "Local", "Expires", "From Account", "Public"]
    rows = [_import_row(i, _activation_expiry(i.token)) for i in imports]
    return boxed("Imports", rows, [*headers, "Allow Trace"])


def describe_mappings(claims: AccountClaims) -> str:
    """nsc's 'Mappings' table: every destination, then the weights' sum."""
    rows: list[tuple[str, str, str]] = []
    for source, targets in claims.mappings.items():
        total = 0
        for n, target in enumerate(targets):
            weight = target.weight or 100
            total += weight
            rows.append((source if n == 0 else "", target.subject, str(weight)))
        rows.append(("", "", f"sum={total}"))
    return boxed("Mappings", rows, ["From", "To", "Weight (%)"])


def describe_scope(scope: UserScope) -> str:
    """nsc's 'Scoped Signing Key - Details' table."""
    rows: list[Row] = [
        ("Key", scope.key),
        ("Role", scope.role),
        ("Description", scope.description),
    ]
    template = scope.template
    rows += _permissions(template)
    rows += _limits(template)
    rows.append(("Bearer Token", _yes_no(template.bearer_token)))
    if template.allowed_connection_types:
        rows += [SEP, *_listed("Allowed Connection Types", template.allowed_connection_types)]
    return boxed("Scoped Signing Key - Details", _tidy(rows))


def describe_account(claims: AccountClaims) -> str:
    """nsc's account description: details, then exports, imports, mappings, scoped keys."""
    parts = [_account_table(claims)]
    if claims.exports:
        parts.append(describe_exports(claims.exports))
    if claims.imports:
        parts.append(describe_imports(claims.imports))
    if claims.mappings:
        parts.append(describe_mappings(claims))
    for key, scope in claims.signing_keys.items():
        if scope is not None:
            parts.append("\n" + describe_scope(scope if scope.key else _keyed(scope, key)))
    return "\n".join(parts)


def _keyed(scope: UserScope, key: str) -> UserScope:
    import dataclasses

    return dataclasses.replace(scope, key=key)


def describe_user(claims: UserClaims, scope: UserScope | None = None) -> str:
    """nsc's 'User' table; for a scoped user, the scope that grants its permissions below."""
    rows = _standard(claims, "User ID", claims.issuer_account)
    if claims.has_empty_permissions() and claims.issuer_account:
        rows.append(("Issuer Scoped", "Yes"))
    else:
        rows += _user_body(claims)
    text = boxed("User", _tidy(rows))
    if scope is not None:
        text += "\n" + describe_scope(scope)
    return text


def describe_activation(claims: ActivationClaims) -> str:
    """nsc's 'Activation' table."""
    rows = [
        *_standard(claims, "Account ID", claims.issuer_account),
        SEP,
        ("Hash ID", claims.hash_id()),
        SEP,
        ("Import Type", claims.import_type.title()),
        ("Import Subject", claims.import_subject),
    ]
    return boxed("Activation", rows)


def describe_claims(claims: AnyClaims) -> str:
    """The nsc table for any decoded claims (generic kinds: their standard rows)."""
    from nscpy.jwt import AccountClaims, ActivationClaims, OperatorClaims, UserClaims

    if isinstance(claims, OperatorClaims):
        return describe_operator(claims)
    if isinstance(claims, AccountClaims):
        return describe_account(claims)
    if isinstance(claims, UserClaims):
        return describe_user(claims)
    if isinstance(claims, ActivationClaims):
        return describe_activation(claims)
    return boxed(claims.claim_type.title() or "JWT", _standard(claims, "Subject"))


def _tidy(rows: list[Row]) -> list[Row]:
    """No separator first, last or twice in a row (nsc's sections are often empty)."""
    out: list[Row] = []
    for row in rows:
        if row is None and (not out or out[-1] is None):
            continue
        out.append(row)
    while out and out[-1] is None:
        out.pop()
    return out
