"""pull: replace local account JWTs with the copies a nats-server resolver (or an HTTP account
server, one GET per account) stores.

`-A` asks for the whole store ($SYS.REQ.CLAIMS.PACK); one account is fetched with
$SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP, which nsc does not offer. A local JWT issued later than the
server's (by iat) is kept unless the caller insists, so a pull never silently undoes an edit
that was not pushed yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from nscpy import resolver
from nscpy.actions.connection import Connection, connect_options, target_urls
from nscpy.actions.entities import load_account, load_operator
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.lookup import accounts_by_key
from nscpy.actions.report import Report
from nscpy.actions.workspace import Workspace
from nscpy.jwt import (
    AccountClaims,
    JWTError,
    OperatorClaims,
    WrongKind,
    decode_account,
)
from nscpy.resolver.http import is_account_server_url


@dataclass
class PullSpec:
    """Which accounts to pull, and whether a newer local JWT may be replaced."""

    account: str | None = None
    all_accounts: bool = False
    overwrite_newer: bool = False


def _wanted_key(ws: Workspace, operator: str, account: str | None) -> str:
    """The public key to look up: a local name, a public key, or the current account."""
    if account and account.startswith("A") and ws.lookup_account(operator, account) is None:
        return account
    return load_account(ws, operator, ws.account_name(operator, account)).subject


def _store_one(
    ws: Workspace,
    operator: str,
    op: OperatorClaims,
    key: str,
    token: str,
    local: dict[str, str],
    spec: PullSpec,
    report: Report,
) -> None:
    try:
        claims = decode_account(token.strip())
    except WrongKind:
        report.warn(f"{key}: skipped, the server's JWT is not this account's JWT")
        return
    except JWTError as exc:
        report.warn(f"{key}: skipped, the server's JWT does not decode: {exc}")
        return
    if claims.subject != key:
        report.warn(f"{key}: skipped, the server's JWT is not this account's JWT")
        return
    if not op.did_sign(claims):
        report.warn(f"{key}: skipped, not issued by operator {op.name!r} or its signing keys")
        return
    name = local.get(key)
    if name is None:
        _store_new(ws, operator, claims, token.strip(), report)
        return
    label = f"{name} ({key})"

    def replace(old: str | None) -> str | None:
        if old is None:
            return token.strip()
        try:
            mine = decode_account(old.strip())
        except JWTError as exc:
            report.warn(f"{label}: kept the local JWT, which does not verify ({exc}); fix it first")
            return None
        if mine.id == claims.id:
            report.ok(f"{label}: already up to date")
            return None
        if mine.issued_at > claims.issued_at and not spec.overwrite_newer:
            report.warn(
                f"{label}: kept the local JWT, it is newer (iat {mine.issued_at} > "
                f"{claims.issued_at}); pass --overwrite-newer to replace it"
            )
            return None
        report.ok(f"{label}: pulled (iat {claims.issued_at})")
        return token.strip()

    ws.store.read_modify_write(ws.paths.account_jwt(operator, name), replace)


def _store_new(
    ws: Workspace, operator: str, claims: AccountClaims, token: str, report: Report
) -> None:
    key = claims.subject
    try:
        name = ws.store.new_account_name(operator, claims.name or key)
    except ValueError as exc:
        report.warn(f"{key}: skipped, its name cannot be a local account name: {exc}")
        return
    taken = ws.store.find_account(operator, name)
    if taken is not None:
        report.warn(f"{key}: skipped, local account {taken!r} with another key has its name")
        return
    ws.store.create_account(operator, name, token)
    report.ok(f"{name} ({key}): stored as a new account")


def pull(ws: Workspace, spec: PullSpec, conn: Connection) -> Report:
    """Fetch account JWTs from the resolver and store them; returns one line per account."""
    if spec.account and spec.all_accounts:
        raise UsageProblem("pass either -a ACCOUNT or -A, not both")
    operator = ws.operator_name(conn.operator)
    op = load_operator(ws, operator)
    wanted = None if spec.all_accounts else _wanted_key(ws, operator, spec.account)
    local = accounts_by_key(ws, operator)
    urls = target_urls(op, conn.url)
    if is_account_server_url(urls[0]):
        return _pull_http(ws, operator, op, urls[0], wanted, local, spec, conn)
    opts, who = connect_options(ws, conn, "nscpy_pull")
    report = Report()
    report.ok(f"connecting to {', '.join(opts.servers)} as {who}")
    if wanted is None:
        found = resolver.pack(opts, conn.timeout)
        if not found:
            raise resolver.NoReplies("no nats-server answered the pack request before the timeout")
    else:
        token = resolver.lookup(opts, wanted, conn.timeout)
        if token is None:
            raise ActionError(f"no nats-server stores account {wanted} (or none replied in time)")
        found = {wanted: token}
    for key in sorted(found):
        _store_one(ws, operator, op, key, found[key], local, spec, report)
    report.data = {"accounts": sorted(found)}
    return report


def _pull_http(
    ws: Workspace,
    operator: str,
    op: OperatorClaims,
    base: str,
    wanted: str | None,
    local: dict[str, str],
    spec: PullSpec,
    conn: Connection,
) -> Report:
    """GET each account (the local ones with -A, as nsc does: the API cannot list)."""
    from nscpy.actions.account_server import fetch_account

    report = Report()
    report.ok(f"pulling from account server {base}")
    keys = sorted(local) if wanted is None else [wanted]
    found: list[str] = []
    for key in keys:
        token = fetch_account(base, key, conn)
        if token is None:
            report.warn(f"{local.get(key, key)} ({key}): the account server does not have it")
            continue
        found.append(key)
        _store_one(ws, operator, op, key, token, local, spec, report)
    report.data = {"accounts": found}
    return report
