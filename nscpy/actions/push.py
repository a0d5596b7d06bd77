"""push: send account JWTs to a nats-server resolver as a system user; diff, prune, remove.

Theory of operation: where to connect and as whom is nscpy.actions.connection's job. Every
server of a cluster answers each request on its own, so the outcome keeps every reply; the
command prints them all and only then turns the first problem into the exit code
(`PushOutcome.check`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nscpy import keys, resolver
from nscpy.actions.connection import Connection, StoredAccounts, connect_options, target_urls
from nscpy.actions.entities import load_account
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.report import ERROR, OK, WARN
from nscpy.actions.signers import account_signer, may_sign_account
from nscpy.actions.workspace import Workspace
from nscpy.jwt import (
    OperatorClaims,
    ValidationResults,
    peek,
)
from nscpy.redact import shown
from nscpy.resolver.http import is_account_server_url

if TYPE_CHECKING:
    from nscpy.actions.account_server import HttpPushOutcome


@dataclass
class PushSpec:
    """What to do: push some accounts, and/or list, prune or remove server-side accounts."""

    account: str | None = None
    all_accounts: bool = False
    force: bool = False
    diff: bool = False
    prune: bool = False
    remove: str | None = None
    signer: str | None = None
    trusted_key: str = ""
    """An operator key the caller checked every server trusts (rotate operator-signing-key)."""


@dataclass
class PushOutcome:
    """Every server's answer to what push did; `check()` raises for the first problem."""

    urls: list[str]
    who: str
    names: dict[str, str]
    pushed: resolver.PushReport | None = None
    listing: resolver.ListReport | None = None
    server_only: list[str] = field(default_factory=list)
    deleted: resolver.DeleteReport | None = None
    removing: list[str] = field(default_factory=list)
    pruning: bool = False

    def _label(self, key: str) -> str:
        name = self.names.get(key)
        return f"{name} ({key})" if name else key

    def lines(self) -> list[tuple[str, str]]:
        """(level, text) lines: one per server reply, then summaries."""
        out: list[tuple[str, str]] = [(OK, f"connecting to {', '.join(self.urls)} as {self.who}")]
        if self.pushed is not None:
            for push in self.pushed.accounts:
                label = self._label(push.account)
                if not push.replies:
                    out.append((ERROR, f"{label}: no server replied"))
                for r in push.replies:
                    out.append((OK if r.ok else ERROR, f"{label}: {r.describe()}"))
            out.append((OK if self.pushed.ok else ERROR, self.pushed.summary()))
        if self.listing is not None:
            for server, accounts in sorted(self.listing.by_server.items()):
                extra = [a for a in accounts if a not in self.names]
                out.append(
                    (OK, f"{server}: stores {len(accounts)} accounts, {len(extra)} only there")
                )
            for key in self.server_only:
                out.append((WARN, f"{key}: on the server only"))
        if self.pruning and not self.removing:
            out.append((OK, "nothing to delete: no account is on the server only"))
        if self.deleted is not None:
            what = ", ".join(self._label(k) for k in self.removing)
            out.append((OK, f"asked to delete {what}"))
            out.extend((OK if r.ok else ERROR, r.describe()) for r in self.deleted.replies)
        return out

    def check(self) -> None:
        """Raise the first problem: a refusal (quoted), no replies, or partial replies."""
        for report in (self.pushed, self.listing, self.deleted):
            if report is not None:
                report.check()

    def to_json(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "urls": self.urls,
            "as": self.who,
            "lines": [{"level": level, "text": text} for level, text in self.lines()],
            "server_only": self.server_only,
        }


def _selected(ws: Workspace, operator: str, spec: PushSpec) -> list[str]:
    if spec.account and spec.all_accounts:
        raise UsageProblem("pass either -a ACCOUNT or -A, not both")
    if spec.all_accounts:
        names = ws.store.list_accounts(operator)
        if not names:
            raise ActionError(f"operator {operator!r} has no accounts to push")
        return names
    if spec.account or not (spec.diff or spec.prune or spec.remove):
        return [ws.account_name(operator, spec.account)]
    return []


def precheck(
    ws: Workspace, stored: StoredAccounts, names: list[str], trusted_key: str = ""
) -> dict[str, str]:
    """{public key: JWT} of the accounts; ActionError when one is invalid, not the operator's,
    or signed by the new key of an operator signing-key rotation not known to be trusted."""
    from nscpy.actions.rotation import pending_operator_key

    op = stored.claims
    jwts: dict[str, str] = {}
    problems: list[str] = []
    now = ws.now()
    pending = pending_operator_key(ws, stored.operator)
    untrusted = pending if pending != trusted_key else ""
    for name in names:
        token = stored.tokens[name]
        claims = stored.verified.get(name)
        if claims is None:
            problems.append(f"account {name!r} does not decode: {stored.problems[name]}")
            continue
        results = ValidationResults()
        claims.validate(results, now=now)
        bad = [i.description for i in results.issues if i.blocking or i.time_check]
        if bad:
            problems.append(f"account {name!r} is not valid: {'; '.join(bad)}")
        if not may_sign_account(op, claims.issuer):
            problems.append(
                f"account {name!r} is not signed by operator {op.name!r} or its signing keys"
            )
        elif claims.issuer == untrusted:
            problems.append(
                f"account {name!r} is signed by {untrusted}, the new key of an operator "
                "signing-key rotation in progress, which servers may not trust yet: push it "
                "with 'nscpy rotate operator-signing-key push', which checks that first"
            )
        jwts[claims.subject] = token
    if problems:
        raise ActionError(f"{' / '.join(problems)} (pass -F to push anyway)")
    return jwts


def _removal_key(ws: Workspace, operator: str, op: OperatorClaims, value: str) -> str:
    name = ws.lookup_account(operator, value)
    key = load_account(ws, operator, name).subject if name else value.strip()
    if not (keys.is_valid_public_key(key) and key.startswith("A")):
        raise UsageProblem(
            f"-R takes a local account name or an account public key, got {shown(value)}"
        )
    if key == op.system_account:
        raise UsageProblem("the system account cannot be removed from the resolver")
    return key


def _require_verified(stored: StoredAccounts) -> None:
    """Pruning deletes what the store lacks: every stored account JWT must verify first."""
    broken = sorted(set(stored.tokens) - set(stored.verified))
    if broken:
        raise ActionError(
            f"cannot prune: the stored JWT of {', '.join(map(repr, broken))} does not verify, "
            "so which accounts are local is not certain; fix or delete it first "
            "('nscpy validate' says what is wrong)"
        )


def push(ws: Workspace, spec: PushSpec, conn: Connection) -> PushOutcome | HttpPushOutcome:
    """Push the selected accounts, then list/prune/remove as asked; every reply is kept."""
    operator = ws.operator_name(conn.operator)
    stored = StoredAccounts.read(ws, operator)  # every file once: checks, labels, SYS keys
    op = stored.claims
    names = _selected(ws, operator, spec)
    if spec.prune:
        _require_verified(stored)
    local = dict(stored.by_key)
    if spec.force:
        # -F sends what is stored, as it is, for the server to judge (it verifies and refuses a
        # forged JWT, which the report then shows): the unverified subject only addresses it
        jwts = {}
        for name in names:
            token = stored.tokens[name]
            key = peek(token).subject  # peek: not a lookup
            jwts[key] = token
            local.setdefault(key, name)  # the report's label
    else:
        jwts = precheck(ws, stored, names, spec.trusted_key)
    remove = _removal_key(ws, operator, op, spec.remove) if spec.remove else None
    urls = target_urls(op, conn.url)
    if is_account_server_url(urls[0]):
        if spec.diff or spec.prune or remove:
            raise UsageProblem(
                "an HTTP account server has no list or delete API: -D, -P and -R need a "
                "nats-server resolver URL (nats://...)"
            )
        from nscpy.actions.account_server import push_http

        return push_http(urls[0], jwts, local, conn)
    opts, who = connect_options(ws, conn, "nscpy_push", stored)
    outcome = PushOutcome(urls=opts.servers, who=who, names=local)
    if jwts:
        outcome.pushed = resolver.push_accounts(opts, jwts, conn.timeout, conn.expect)
    if spec.diff or spec.prune or remove:
        outcome.listing = resolver.list_accounts(opts, conn.timeout, conn.expect)
        outcome.server_only = [a for a in outcome.listing.accounts if a not in local]
    doomed = sorted({*(outcome.server_only if spec.prune else []), *([remove] if remove else [])})
    outcome.pruning = spec.prune or remove is not None
    outcome.removing = doomed
    if doomed:
        signer = account_signer(ws.keystore, op, spec.signer)
        token = resolver.delete_request_jwt(signer, doomed, ws.now())
        assert outcome.listing is not None
        expected = conn.expect or len(outcome.listing.replies) or None
        outcome.deleted = resolver.delete_accounts(opts, token, conn.timeout, expected)
    return outcome
