"""Signed requests the resolver demands: the delete request (generic claims, operator-signed)."""

from __future__ import annotations

from nscpy import keys
from nscpy.errors import NscValueError

__all__ = ["delete_request_jwt"]


def delete_request_jwt(operator_signer: keys.KeyPair, accounts: list[str], now: int) -> str:
    """nsc's delete request: sub = iss = an operator key, nats.accounts = the accounts to drop.

    The server accepts it only from a key it trusts as the operator's (identity or signing key),
    and only with `allow_delete: true`.
    """
    if operator_signer.prefix is not keys.Prefix.OPERATOR:
        role = operator_signer.prefix.role
        article = "an" if role[:1] in "aeiou" else "a"
        raise NscValueError(
            f"a delete request must be signed by an operator key, got {article} {role} key"
        )
    if not accounts:
        raise NscValueError("a delete request needs at least one account")
    for account in accounts:
        if not keys.is_valid_public_key(account) or not account.startswith("A"):
            raise NscValueError(f"can only delete account public keys (A...), got {account!r}")
    from nscpy.jwt import GenericClaims, encode

    claims = GenericClaims.new(operator_signer.public_key)
    claims.data["accounts"] = list(accounts)
    return encode(claims, operator_signer, iat=now)
