"""Stateless issuance: user JWT + creds from an account key or signing key, with no store.

For services that hand out credentials on demand (an auth service, a provisioning endpoint): the
issuer is built once from the signing seed, then `issue()` costs one key pair, one claims encode
and one Ed25519 signature. The user claims follow the same rule as `nscpy add user`
(nscpy.actions.users.build_user_claims): a scoped signing key issues users without permissions of
their own, an account signing key sets issuer_account.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from nscpy import keys
from nscpy.actions.errors import UsageProblem
from nscpy.actions.permspec import PermissionSpec
from nscpy.actions.users import UserSpec, build_user_claims
from nscpy.actions.workspace import system_clock
from nscpy.jwt import AccountClaims, UserScope, encode
from nscpy.jwt.creds import decorate_seed, format_jwt

__all__ = ["IssuedUser", "UserIssuer", "issue_user"]


@dataclass(frozen=True)
class IssuedUser:
    """A freshly minted user: its JWT, key pair and the creds text a client connects with."""

    name: str
    public_key: str
    jwt: str
    seed: str = field(repr=False)
    creds: str = field(repr=False)


class UserIssuer:
    """Mints users for one account; `signing_key` is the account's identity or signing seed."""

    def __init__(
        self,
        signing_key: str | keys.KeyPair,
        *,
        account: str | None = None,
        scoped: bool = False,
        role: str = "",
    ) -> None:
        signer = keys.from_seed(signing_key) if isinstance(signing_key, str) else signing_key
        if not isinstance(signer, keys.KeyPair) or signer.prefix is not keys.Prefix.ACCOUNT:
            raise UsageProblem("users are signed by an account key or signing key (SA... seed)")
        account = account or signer.public_key
        if not (keys.is_valid_public_key(account) and account.startswith("A")):
            raise UsageProblem(f"account must be an account public key (A...), got {account!r}")
        if scoped and account == signer.public_key:
            raise UsageProblem("the account identity key cannot be a scoped signing key")
        self.signer = signer
        self.account = account
        # build_user_claims reads only the account's subject and the signer's scope
        self._account_claims = AccountClaims.new(account)
        if scoped:
            self._account_claims.signing_keys.add_scoped(
                UserScope(key=signer.public_key, role=role or "issuer")
            )
        elif signer.public_key != account:
            self._account_claims.signing_keys.add(signer.public_key)

    def issue(
        self,
        name: str,
        *,
        permissions: PermissionSpec | None = None,
        expires: int = 0,
        not_before: int = 0,
        tags: Sequence[str] = (),
        bearer: bool = False,
        source_networks: Sequence[str] = (),
        now: int | None = None,
    ) -> IssuedUser:
        """A new user key pair and its signed JWT; expires/not_before are Unix seconds (0: none)."""
        pair = keys.create_pair(keys.Prefix.USER)
        spec = UserSpec(
            name=name,
            permissions=permissions or PermissionSpec(),
            bearer=bearer,
            tags=list(tags),
            source_networks=list(source_networks),
            start=not_before,
            expiry=expires,
        )
        claims = build_user_claims(self._account_claims, self.signer, pair.public_key, spec)
        token = encode(claims, self.signer, iat=system_clock() if now is None else now)
        creds = format_jwt("user", token) + decorate_seed(pair.seed)
        return IssuedUser(name, pair.public_key, token, pair.seed, creds)


def issue_user(
    signing_key: str | keys.KeyPair,
    name: str,
    *,
    account: str | None = None,
    scoped: bool = False,
    permissions: PermissionSpec | None = None,
    expires: int = 0,
    now: int | None = None,
) -> IssuedUser:
    """One user in one call (build a UserIssuer to mint many with the same key)."""
    issuer = UserIssuer(signing_key, account=account, scoped=scoped)
    return issuer.issue(name, permissions=permissions, expires=expires, now=now)
