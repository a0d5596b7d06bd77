"""reissue operator: a new operator identity key, and the accounts it issued re-signed.

Everything (new seed, operator JWT, re-signed accounts) is written in one store batch, so a
crash leaves either the old tree or the new one.
"""

from __future__ import annotations

from nscpy import keys
from nscpy.actions.entities import Saved, load_account, load_operator
from nscpy.actions.errors import UsageProblem
from nscpy.actions.signers import account_signer, load_key_value, may_sign_account
from nscpy.actions.workspace import Workspace
from nscpy.jwt import encode


def reissue_operator(
    ws: Workspace,
    name: str | None = None,
    *,
    key: str | None = None,
    convert_to_signing_key: bool = False,
) -> list[Saved]:
    """Give the operator a new identity; re-sign its accounts unless the old key stays as a
    signing key (convert_to_signing_key), in which case they remain valid as they are."""
    operator = ws.operator_name(name)
    claims = load_operator(ws, operator)
    old = claims.subject
    pair = load_key_value(key, ws.keystore) if key else keys.create_pair(keys.Prefix.OPERATOR)
    if pair.prefix is not keys.Prefix.OPERATOR:
        raise UsageProblem(f"-K must be an operator seed (SO...), got a {pair.prefix.role} key")
    if pair.public_key == old or pair.public_key in claims.signing_keys:
        raise UsageProblem(f"{pair.public_key} is already a key of operator {operator!r}")
    if convert_to_signing_key and ws.keystore.get(old) is None:
        raise UsageProblem(f"the old identity seed {old} is not stored, so it cannot keep signing")
    claims.subject = pair.public_key
    if convert_to_signing_key:
        claims.signing_keys.append(old)
    now = ws.now()
    token = encode(claims, pair, iat=now)
    saved = [Saved("operator", operator, pair.public_key, ws.paths.operator_jwt(operator))]
    with ws.store.batch(operator, ws.keystore) as batch:
        batch.put_key(pair)
        batch.raw.write(ws.paths.operator_jwt(operator), token)
        if convert_to_signing_key:
            saved[0].notes.append(f"old identity {old} kept as a signing key")
            return saved
        for account in ws.store.list_accounts(operator):
            acct = load_account(ws, operator, account)
            if acct.issuer != old:
                continue  # issued by an operator signing key, which is unchanged
            # a strict operator's new identity may not sign accounts: a signing key does
            signer = pair if may_sign_account(claims, pair.public_key) else None
            if signer is None:
                signer = account_signer(ws.keystore, claims)
            path = batch.write_account(account, encode(acct, signer, iat=now))
            saved.append(Saved("account", account, acct.subject, path, notes=["re-signed"]))
    saved[0].notes.append(f"replaced identity {old}")
    return saved
