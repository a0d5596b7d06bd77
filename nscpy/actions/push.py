"""push: send account JWTs to a nats-server resolver as a system user; diff, prune, remove.

Theory of operation: the target is `-u`, else the operator's account server URL, else its
service URLs. We connect as a two-minute system user minted from a system-account seed in the
keystore (nsc's rule), falling back to a stored system user with a seed. Every server of a
cluster answers each request on its own, so the outcome keeps every reply; the command prints
them all and only then turns the first problem into the exit code (`PushOutcome.check`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nscpy import keys, resolver
from nscpy.actions.entities import load_account, load_operator, load_user
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.lookup import Stored, accounts_by_key, verified_accounts, verified_users
from nscpy.actions.report import ERROR, OK, WARN
from nscpy.actions.signers import account_signer, may_sign_account, unscoped_signer_keys
from nscpy.actions.workspace import Workspace
from nscpy.jwt import (
    AccountClaims,
    JWTError,
    OperatorClaims,
    ValidationResults,
    decode_account,
    peek,
)
from nscpy.redact import shown
from nscpy.resolver.http import is_account_server_url
from nscpy.resolver.options import RESOLVER_SCHEMES

if TYPE_CHECKING:
    from nscpy.actions.account_server import HttpPushOutcome


@dataclass
class Connection:
    """How to reach the resolver and as whom (push's and pull's shared flags)."""

    url: str | None = None
    system_account: str | None = None
    system_user: str | None = None
    ca_cert: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    tls_first: bool = False
    timeout: float = 1.0
    expect: int | None = None
    operator: str | None = None


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


def target_urls(op: OperatorClaims, url: str | None) -> list[str]:
    """-u, else the account server URL, else the service URLs; only resolver schemes."""
    if url:
        urls = [u.strip() for u in url.split(",") if u.strip()]
    elif op.account_server_url:
        urls = [op.account_server_url]
    else:
        urls = list(op.operator_service_urls)
    if not urls:
        raise ActionError(
            f"operator {op.name!r} has no account server or service URL: pass -u nats://HOST:PORT "
            "or set one with 'nscpy edit operator -u nats://HOST:PORT'"
        )
    web = [u for u in urls if is_account_server_url(u)]
    if web and len(web) != len(urls):
        raise UsageProblem("pass either nats resolver URLs or one http(s) account server URL")
    if len(web) > 1:
        raise UsageProblem("pass one http(s) account server URL, not several")
    for u in urls:
        scheme = u.split("://", 1)[0].lower() if "://" in u else ""
        if scheme not in (*RESOLVER_SCHEMES, "http", "https"):
            raise UsageProblem(
                "server URL must start with nats://, tls://, ws://, wss:// (a nats-server) or "
                f"http(s):// (an account server), got {u!r}"
            )
    return urls


def _system_account(ws: Workspace, operator: str, op: OperatorClaims, wanted: str | None) -> str:
    if wanted:
        name = ws.lookup_account(operator, wanted)
        if name is not None:
            return load_account(ws, operator, name).subject
        if keys.is_valid_public_key(wanted) and wanted.startswith("A"):
            return wanted
        raise ActionError(f"system account {wanted!r} is not an account of operator {operator!r}")
    if not op.system_account:
        raise resolver.NoSystemAccount(
            f"operator {operator!r} names no system account: set one with 'nscpy edit operator "
            "--system-account NAME' or pass --system-account"
        )
    return op.system_account


def _stored_user(ws: Workspace, operator: str, account: str, wanted: str) -> tuple[str, str]:
    """(jwt, seed) of a stored user given by name or public key."""
    from nscpy.actions.users import find_user

    user = find_user(ws, operator, account, wanted)
    token = ws.store.read_user(operator, account, user).strip()
    seed = ws.keystore.get(load_user(ws, operator, account, user).subject)
    if seed is None:
        raise resolver.NoSystemSeed(
            f"the seed of system user {user!r} is not in the keystore; import it with "
            "'nscpy import keys' or 'nscpy import user'"
        )
    return token, seed


def system_credentials(
    ws: Workspace, operator: str, op: OperatorClaims, conn: Connection
) -> tuple[str, str, str]:
    """(user JWT, user seed, who) to connect as: --system-user, a minted user, or a SYS user."""
    sys_pub = _system_account(ws, operator, op, conn.system_account)
    local = accounts_by_key(ws, operator)
    sys_name = local.get(sys_pub)
    if conn.system_user:
        if sys_name is None:
            raise ActionError(
                f"system account {sys_pub} is not in the store: --system-user needs it"
            )
        token, seed = _stored_user(ws, operator, sys_name, conn.system_user)
        return token, seed, f"system user {conn.system_user!r}"
    candidates = [sys_pub]
    if sys_name is not None:
        acct = load_account(ws, operator, sys_name)
        # a temporary user needs an unscoped key (a scope would limit it)
        candidates = unscoped_signer_keys(op, acct)
    for key in candidates:
        signing_seed = ws.keystore.get(key)
        if signing_seed is not None:
            signer = keys.KeyPair.from_seed(signing_seed)
            user = resolver.temporary_system_user(signer, sys_pub, ws.now())
            return user.jwt, user.seed, "a temporary system user"
    if sys_name is not None:
        now = ws.now()
        for stored in verified_users(ws, operator, sys_name):
            claims = stored.claims
            user_seed = ws.keystore.get(claims.subject)
            if user_seed is not None and (claims.expires == 0 or claims.expires > now):
                return stored.token, user_seed, f"system user {stored.name!r}"
    label = f"{sys_name!r} ({sys_pub})" if sys_name else sys_pub
    raise resolver.NoSystemSeed(
        f"no seed for system account {label} or an unscoped signing key of it, and no system "
        "user with a stored seed: import one with 'nscpy import keys' or pass --system-user"
    )


def resolver_options(
    ws: Workspace, conn: Connection, name: str
) -> tuple[resolver.ConnectOptions, str]:
    """ConnectOptions for the operator's resolver, and who we connect as (for the report)."""
    operator = ws.operator_name(conn.operator)
    op = load_operator(ws, operator)
    urls = target_urls(op, conn.url)
    token, seed, who = system_credentials(ws, operator, op, conn)
    opts = resolver.options_from_env(
        urls,
        token,
        seed,
        ca_file=conn.ca_cert,
        cert_file=conn.client_cert,
        key_file=conn.client_key,
        tls_first=conn.tls_first,
        name=name,
        env=ws.env,
    )
    return opts, who


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
    ws: Workspace, operator: str, op: OperatorClaims, names: list[str], trusted_key: str = ""
) -> dict[str, str]:
    """{public key: JWT} of the accounts; ActionError when one is invalid, not the operator's,
    or signed by the new key of an operator signing-key rotation not known to be trusted."""
    from nscpy.actions.rotation import pending_operator_key

    jwts: dict[str, str] = {}
    problems: list[str] = []
    now = ws.now()
    pending = pending_operator_key(ws, operator)
    untrusted = pending if pending != trusted_key else ""
    for name in names:
        token = ws.store.read_account(operator, name).strip()
        try:
            claims = decode_account(token)
        except JWTError as exc:
            problems.append(f"account {name!r} does not decode: {exc}")
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


def _require_verified(ws: Workspace, operator: str, stored: list[Stored[AccountClaims]]) -> None:
    """Pruning deletes what the store lacks: every stored account JWT must verify first."""
    broken = sorted(set(ws.store.list_accounts(operator)) - {entry.name for entry in stored})
    if broken:
        raise ActionError(
            f"cannot prune: the stored JWT of {', '.join(map(repr, broken))} does not verify, "
            "so which accounts are local is not certain; fix or delete it first "
            "('nscpy validate' says what is wrong)"
        )


def push(ws: Workspace, spec: PushSpec, conn: Connection) -> PushOutcome | HttpPushOutcome:
    """Push the selected accounts, then list/prune/remove as asked; every reply is kept."""
    operator = ws.operator_name(conn.operator)
    op = load_operator(ws, operator)
    names = _selected(ws, operator, spec)
    stored = verified_accounts(ws, operator)
    if spec.prune:
        _require_verified(ws, operator, stored)
    local = {entry.claims.subject: entry.name for entry in stored}
    if spec.force:
        # -F sends what is stored, as it is, for the server to judge (it verifies and refuses a
        # forged JWT, which the report then shows): the unverified subject only addresses it
        jwts = {}
        for name in names:
            token = ws.store.read_account(operator, name).strip()
            key = peek(token).subject  # peek: not a lookup
            jwts[key] = token
            local.setdefault(key, name)  # the report's label
    else:
        jwts = precheck(ws, operator, op, names, spec.trusted_key)
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
    opts, who = resolver_options(ws, conn, "nscpy_push")
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
