"""Checks across tokens: is a user (or activation) really issued by this account?

These are the rules nats-server applies between an account JWT and the JWTs it vouches for:
the issuer is the account identity key, or one of its signing keys together with issuer_account
naming the account; a scoped signing key may only sign users that carry no permissions or limits.
"""

from __future__ import annotations

from nscpy.jwt.account import AccountClaims
from nscpy.jwt.activation import ActivationClaims
from nscpy.jwt.user import UserClaims
from nscpy.jwt.validation import ValidationResults

__all__ = ["validate_user_against_account", "validate_activation_against_account"]


def _check_issuer(
    claims: UserClaims | ActivationClaims,
    account: AccountClaims,
    results: ValidationResults,
    what: str,
) -> bool:
    """Issuer rules; True when signed by a signing key (so scope rules apply)."""
    if claims.issuer == account.subject:
        if claims.issuer_account and claims.issuer_account != account.subject:
            results.add_error(
                f"{what} issuer_account {claims.issuer_account} is not account {account.subject}"
            )
        return False
    if claims.issuer not in account.signing_keys:
        results.add_error(
            f"{what} issuer {claims.issuer} is neither account {account.subject}"
            " nor one of its signing keys"
        )
        return False
    if claims.issuer_account != account.subject:
        results.add_error(
            f"{what} is signed by signing key {claims.issuer} but its issuer_account is"
            f" {claims.issuer_account or 'empty'}; it must be {account.subject}"
        )
    return True


def _check_scope(
    claims: UserClaims | ActivationClaims, account: AccountClaims, results: ValidationResults
) -> None:
    """An error if claims were signed by a scoped key whose template they break."""
    scope = account.signing_keys.get_scope(claims.issuer)
    if scope is not None:
        problem = scope.scoped_signer_error(claims)
        if problem:
            results.add_error(problem)


def validate_user_against_account(
    user: UserClaims, account: AccountClaims, results: ValidationResults
) -> None:
    """Add errors unless account issued user (and, for a scoped key, user has no permissions)."""
    if _check_issuer(user, account, results, "user"):
        _check_scope(user, account, results)
    if account.is_claim_revoked(user):
        results.add_error(f"user {user.subject} is revoked by account {account.subject}")


def validate_activation_against_account(
    activation: ActivationClaims, account: AccountClaims, results: ValidationResults
) -> None:
    """Add errors unless account (the exporter) issued activation; scoped keys cannot."""
    if _check_issuer(activation, account, results, "activation"):
        _check_scope(activation, account, results)
