"""Drift: spec vs store vs the live resolver, and pushing what the servers lack.

The servers are read back over $SYS as `pull -A` does (one pack request): an account the spec
names may be missing on the server, stale there (the server's JWT is older than ours), newer
there (someone pushed past us), or the server may hold accounts the spec does not name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nscpy.actions.connection import Connection, connect_options
from nscpy.actions.plan import Plan
from nscpy.actions.workspace import Workspace
from nscpy.jwt import JWTError, decode_account

__all__ = ["Drift", "PushResult", "local_account_jwts", "push_accounts", "read_drift"]


@dataclass
class Drift:
    """Per account public key: how the server's copy compares with the store's."""

    url: str
    names: dict[str, str]
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    newer: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    in_sync: int = 0

    def has_drift(self) -> bool:
        """True when the server differs from the store in an account the spec names."""
        return bool(self.missing or self.stale or self.newer)

    def _label(self, key: str) -> str:
        name = self.names.get(key)
        return f"{name} ({key})" if name else key

    def lines(self) -> list[str]:
        """One line per drifted account."""
        out = [f"missing on the server: {self._label(k)}" for k in self.missing]
        out += [f"stale on the server (older JWT): {self._label(k)}" for k in self.stale]
        out += [f"newer on the server than in the store: {self._label(k)}" for k in self.newer]
        out += [f"on the server, unknown to the spec: {k}" for k in self.unknown]
        return out

    def to_json(self) -> dict[str, Any]:
        """The drift part of plan.json."""

        def named(ks: list[str]) -> list[dict[str, str]]:
            return [{"name": self.names.get(k, ""), "public_key": k} for k in ks]

        return {
            "url": self.url,
            "missing": named(self.missing),
            "stale": named(self.stale),
            "newer": named(self.newer),
            "unknown": self.unknown,
            "in_sync": self.in_sync,
        }


def local_account_jwts(ws: Workspace, plan: Plan) -> dict[str, tuple[str, str]]:
    """{public key: (name, stored JWT)} for the spec's accounts that exist in the store."""
    out: dict[str, tuple[str, str]] = {}
    for name, ap in plan.accounts.items():
        if ws.store.has_account(plan.operator, name):
            out[ap.claims.subject] = (name, ws.store.read_account(plan.operator, name).strip())
    return out


def _iat(token: str) -> int:
    try:
        return decode_account(token.strip()).issued_at
    except (JWTError, ValueError):
        return 0


def read_drift(ws: Workspace, plan: Plan, conn: Connection) -> Drift:
    """Compare the server's account JWTs with the store's for every account of the plan."""
    from nscpy import resolver

    opts, _ = connect_options(ws, conn, "nscpy_plan")
    served = resolver.pack(opts, conn.timeout)
    if not served:
        raise resolver.NoReplies("no nats-server answered the pack request before the timeout")
    names = {ap.claims.subject: name for name, ap in plan.accounts.items()}
    drift = Drift(", ".join(opts.servers), names)
    local = local_account_jwts(ws, plan)
    system = plan.operator_plan.claims.system_account
    for key in sorted(names):
        theirs = served.get(key)
        ours = local.get(key, ("", ""))[1]
        if theirs is None:
            drift.missing.append(key)
        elif theirs.strip() == ours:
            drift.in_sync += 1
        elif _iat(theirs) <= _iat(ours) or not ours:
            drift.stale.append(key)
        else:
            drift.newer.append(key)
    drift.unknown = sorted(k for k in served if k not in names and k != system)
    return drift


@dataclass
class PushResult:
    """The servers' answers to apply --push."""

    lines: list[tuple[bool, str]]
    ok: bool

    def to_json(self) -> dict[str, Any]:
        """The push part of apply.json."""
        return {"ok": self.ok, "replies": [{"ok": ok, "text": t} for ok, t in self.lines]}


def push_accounts(
    ws: Workspace,
    plan: Plan,
    conn: Connection,
    changed: set[str],
    deleted: dict[str, str] | None = None,
) -> PushResult:
    """Push the changed accounts plus any the server lacks or holds an older JWT of; then ask
    the servers to delete the accounts apply --prune removed from the store (deleted: {public
    key: name}), as `push -R` does: a request signed by an operator key."""
    from nscpy import resolver

    opts, who = connect_options(ws, conn, "nscpy_apply")
    local = local_account_jwts(ws, plan)
    try:
        served = resolver.pack(opts, conn.timeout)
    except resolver.ResolverError:
        served = {}
    wanted = {
        key: token
        for key, (name, token) in local.items()
        if name in changed or served.get(key, "").strip() != token
    }
    lines: list[tuple[bool, str]] = [(True, f"connecting to {', '.join(opts.servers)} as {who}")]
    ok = True
    servers = conn.expect
    if wanted:
        report = resolver.push_accounts(opts, wanted, conn.timeout, conn.expect)
        for push in report.accounts:
            label = f"{local[push.account][0]} ({push.account})"
            if not push.replies:
                lines.append((False, f"{label}: no server replied"))
            lines.extend((r.ok, f"{label}: {r.describe()}") for r in push.replies)
        lines.append((report.ok, report.summary()))
        ok = report.ok
        servers = servers or len(report.servers) or None
    elif not deleted:
        lines.append((True, "every server already has every account"))
    if deleted:
        gone_ok, gone_lines = _delete_accounts(ws, plan, conn, opts, deleted, servers)
        lines += gone_lines
        ok = ok and gone_ok
    return PushResult(lines, ok)


def _delete_accounts(
    ws: Workspace,
    plan: Plan,
    conn: Connection,
    opts: Any,
    deleted: dict[str, str],
    servers: int | None,
) -> tuple[bool, list[tuple[bool, str]]]:
    """Ask the servers to drop the pruned accounts; (all replies good, report lines)."""
    from nscpy import resolver
    from nscpy.actions.signers import account_signer

    signer = account_signer(ws.keystore, plan.operator_plan.claims)
    doomed = sorted(deleted)
    token = resolver.delete_request_jwt(signer, doomed, ws.now())
    report = resolver.delete_accounts(opts, token, conn.timeout, servers)
    what = ", ".join(f"{deleted[k]} ({k})" for k in doomed)
    lines = [(True, f"asked the servers to delete {what}")]
    if not report.replies:
        lines.append((False, "no server replied to the delete request"))
    lines += [(r.ok, r.describe()) for r in report.replies]
    try:
        report.check()
    except resolver.ResolverError as exc:
        if report.replies and all(r.ok for r in report.replies):
            lines.append((False, str(exc)))
        return False, lines
    return True, lines
