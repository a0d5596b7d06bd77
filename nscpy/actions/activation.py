"""generate activation: the token a private export's owner gives to an importing account."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from nscpy import keys
from nscpy.actions.edit_common import require_valid, resolve_account
from nscpy.actions.entities import load_account, load_operator
from nscpy.actions.errors import ActionError, UsageProblem
from nscpy.actions.revocations import account_target
from nscpy.actions.signers import activation_signer
from nscpy.actions.workspace import Workspace
from nscpy.jwt import (
    AccountClaims,
    ActivationClaims,
    Export,
    JWTError,
    WrongKind,
    decode_activation,
    encode,
    is_contained_in,
    parse_decorated_jwt,
)
from nscpy.jwt.creds import format_jwt


@dataclass
class Activation:
    """A signed activation and its decoded claims."""

    token: str
    claims: ActivationClaims

    def decorated(self) -> str:
        """The token between BEGIN/END lines, as nsc writes activation files."""
        return format_jwt("activation", self.token)


def find_covering_export(claims: AccountClaims, subject: str, service: bool | None) -> Export:
    """The export whose subject contains `subject` (exact matches first)."""
    kinds = [e for e in claims.exports if service is None or e.is_service() == service]
    exact = [e for e in kinds if e.subject == subject]
    covering = exact or [e for e in kinds if is_contained_in(subject, e.subject)]
    if not covering:
        raise ActionError(f"account {claims.name!r} has no export that covers {subject!r}")
    if len(covering) > 1:
        listed = ", ".join(f"{e.type} {e.subject!r}" for e in covering)
        raise UsageProblem(
            f"{subject!r} is covered by {len(covering)} exports of account {claims.name!r} "
            f"({listed}): give the export's exact subject, or --service/--stream"
        )
    return covering[0]


def generate_activation(
    ws: Workspace,
    account: str | None,
    subject: str,
    target: str,
    *,
    start: int = 0,
    expiry: int = 0,
    operator: str | None = None,
    signer: str | None = None,
) -> Activation:
    """Sign an activation granting `target` (account name or A key) the private export."""
    ref = resolve_account(ws, account, operator)
    acct = load_account(ws, ref.operator, ref.account)
    export = find_covering_export(acct, subject, None)
    if not export.token_req:
        raise UsageProblem(
            f"export {export.subject!r} is public: importers need no activation token"
        )
    importer = account_target(ws, ref.operator, target)
    if importer == "*":
        raise UsageProblem("an activation is for one account: pass its name or public key")
    if importer == acct.subject:
        raise UsageProblem("an account cannot import its own export")
    position = export.account_token_position
    if position and subject.split(".")[position - 1 : position] != [importer]:
        raise UsageProblem(
            f"export {export.subject!r} requires token {position} of the subject to be the "
            f"importing account {importer}"
        )
    pair = activation_signer(ws.keystore, load_operator(ws, ref.operator), acct, signer)
    claims = ActivationClaims.new(importer)
    claims.name = subject
    claims.import_subject = subject
    claims.import_type = export.type
    claims.not_before = start
    claims.expires = expiry
    if pair.public_key != acct.subject:
        claims.issuer_account = acct.subject
    now = ws.now()
    require_valid(claims, now, "the activation")
    return Activation(encode(claims, pair, iat=now), claims)


def read_activation(text: str, importer: str, now: int) -> ActivationClaims:
    """Decode an activation (plain or decorated) and check it is for `importer` and in date."""
    token = parse_decorated_jwt(text).strip()
    try:
        claims = decode_activation(token)
    except WrongKind as exc:
        raise UsageProblem(f"--token: {exc}") from None
    except JWTError as exc:
        raise UsageProblem(f"--token does not hold a valid activation JWT: {exc}") from None
    if claims.subject != importer:
        raise UsageProblem(
            f"the activation is for account {claims.subject}, not for this account {importer}"
        )
    if claims.expires and now > claims.expires:
        raise UsageProblem(f"the activation expired at {_utc(claims.expires)}")
    if claims.not_before and claims.not_before > now:
        raise UsageProblem(f"the activation is not valid before {_utc(claims.not_before)}")
    require_valid(claims, now, "the activation")
    return claims


def _utc(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def exporter_of(claims: ActivationClaims) -> str:
    """The exporting account: issuer_account when signed by a signing key, else the issuer."""
    issuer = claims.issuer_account or claims.issuer
    if not keys.is_valid_public_key(issuer) or not issuer.startswith("A"):
        raise UsageProblem(f"the activation's issuer {issuer} is not an account")
    return issuer
