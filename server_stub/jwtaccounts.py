"""Account JWTs in the router: limits, and imports wired only where the exporter allows them.

An import is honoured when the exporting account has an export of the same kind containing the
imported subject. An export with `token_req` also needs an activation token issued by the
exporter (or one of its signing keys, with issuer_account), for the importing account, covering
the subject, unexpired and not revoked by the export's revocations. Imports that fail are skipped
(nats-server logs them and goes on), so the rest of the account still works.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from nscpy import jwt
from nscpy.jwt.revocations import is_revoked
from server_stub.router import Account, Router, add_service_import, add_stream_import

log = logging.getLogger("server_stub")

Lookup = Callable[[str], "jwt.AccountClaims | None"]


def set_limits(account: Account, claims: jwt.AccountClaims, is_system: bool) -> None:
    """Copy the JWT's connection/subscription/payload limits onto a router account."""
    account.claims = claims
    account.max_conns = claims.limits.conn
    # subs and payload are per-connection limits (min of account and user): see policy.Grant
    account.is_system = is_system


def activation_problem(
    imp: jwt.Import, export: jwt.Export, importer: str, exporter: jwt.AccountClaims, now: int
) -> str | None:
    """Why imp's activation token does not unlock export (None when it does)."""
    if not imp.token:
        return "export requires an activation token"
    try:
        act = jwt.decode_activation(imp.token)
    except jwt.WrongKind:
        return "token is not an activation"
    except jwt.JWTError as exc:
        return f"activation token does not decode: {exc}"
    results = jwt.ValidationResults()
    act.validate(results, now=now)
    if results.is_blocking(include_time_checks=True):
        return "activation token is not valid: " + "; ".join(str(i) for i in results.issues)
    if act.expires and act.expires <= now:
        return "activation token has expired"
    if act.issuer != exporter.subject and not (
        act.issuer_account == exporter.subject and act.issuer in exporter.signing_keys
    ):
        return f"activation issuer {act.issuer} is not a signer of {exporter.subject}"
    if act.subject != importer:
        return f"activation is for {act.subject}, not {importer}"
    if act.import_type != imp.type or not jwt.is_contained_in(imp.subject, act.import_subject):
        return f"activation covers {act.import_type} {act.import_subject!r}"
    if is_revoked(export.revocations, act.subject, act.issued_at):
        return "activation revoked"
    return None


def find_export(imp: jwt.Import, exporter: jwt.AccountClaims) -> jwt.Export | None:
    """The exporter's export of imp's kind that contains imp's subject."""
    for export in exporter.exports:
        if export.type == imp.type and jwt.is_contained_in(imp.subject, export.subject):
            return export
    return None


def import_problem(
    imp: jwt.Import, importer: str, exporter: jwt.AccountClaims | None, now: int
) -> str | None:
    """Why an import cannot be wired (None when it can)."""
    if exporter is None:
        return f"exporting account {imp.account} is unknown"
    export = find_export(imp, exporter)
    if export is None:
        return f"{imp.account} does not export {imp.type} {imp.subject!r}"
    if export.token_req:
        return activation_problem(imp, export, importer, exporter, now)
    return None


def local_subject(imp: jwt.Import) -> str:
    """Where the import appears in the importing account."""
    if imp.local_subject:
        return imp.local_subject
    if imp.to:
        # the deprecated `to` is a prefix for streams and the local name for services
        return f"{imp.to}.{imp.subject}" if imp.is_stream() else imp.to
    return imp.subject


def next_activation_expiry(loaded: dict[str, jwt.AccountClaims], now: int) -> int | None:
    """The soonest future `exp` of any import's activation token (when wiring must change)."""
    soonest: int | None = None
    for claims in loaded.values():
        for imp in claims.imports:
            if not imp.token:
                continue
            try:
                act = jwt.decode(imp.token)
            except jwt.JWTError:
                continue  # wire_imports skips it already; it cannot expire into validity
            if act.expires and act.expires > now and (soonest is None or act.expires < soonest):
                soonest = act.expires
    return soonest


def wire_imports(router: Router, loaded: dict[str, jwt.AccountClaims], now: int) -> None:
    """Rebuild every loaded account's imports from the JWTs (after any account changed)."""
    for name in loaded:
        router.clear_imports(router.account(name))
    for name, claims in loaded.items():
        importer = router.account(name)
        for imp in claims.imports:
            problem = import_problem(imp, name, loaded.get(imp.account), now)
            if problem is not None:
                log.info("account %s: import %s skipped: %s", name, imp.subject, problem)
                continue
            exporter = router.account(imp.account)
            to = local_subject(imp)
            if imp.is_stream():
                add_stream_import(importer, exporter, imp.subject, to)
            else:
                export = find_export(imp, loaded[imp.account])
                multi = export is not None and export.response_type in ("Stream", "Chunked")
                add_service_import(importer, exporter, imp.subject, to, multi=multi)
