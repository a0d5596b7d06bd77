"""The short-lived system-account user that push and pull connect as (as nsc's push does).

It can only ask the resolver questions: publish on the `$SYS.REQ.CLAIMS.*` and per-account
CLAIMS subjects and ask for VARZ, and subscribe to its reply inboxes. It expires two minutes
after `now`, so a leaked token is worth little. Pure: the clock and the randomness are parameters.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from nscpy import keys
from nscpy.resolver.errors import NoSystemAccount, NoSystemSeed

__all__ = [
    "TEMPORARY_USER_NAME",
    "TEMPORARY_USER_LIFETIME",
    "TEMPORARY_USER_PUBLISH",
    "TEMPORARY_USER_SUBSCRIBE",
    "SystemUser",
    "temporary_system_user",
]

TEMPORARY_USER_NAME = "nscpy temporary push user"
TEMPORARY_USER_LIFETIME = 120
"""Seconds the temporary user's JWT stays valid."""

TEMPORARY_USER_PUBLISH = (
    "$SYS.REQ.CLAIMS.LIST",
    "$SYS.REQ.CLAIMS.UPDATE",
    "$SYS.REQ.CLAIMS.DELETE",
    "$SYS.REQ.CLAIMS.PACK",
    "$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP",
    "$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE",
    # rotate operator-signing-key asks which operator keys each server trusts
    "$SYS.REQ.SERVER.PING.VARZ",
)
TEMPORARY_USER_SUBSCRIBE = ("_INBOX.>",)


@dataclass(frozen=True)
class SystemUser:
    """A minted user: its JWT and seed (kept out of repr), public key and expiry."""

    jwt: str
    seed: str = field(repr=False)
    public_key: str
    expires: int


def _a(word: str) -> str:
    return f"an {word}" if word[:1] in "aeiou" else f"a {word}"


def temporary_system_user(
    signer: keys.KeyPair | None,
    system_account: str | None,
    now: int,
    rng: keys.Rng = os.urandom,
) -> SystemUser:
    """Mint the 2-minute push user, signed by the SYS identity key or one of its signing keys."""
    if not system_account:
        raise NoSystemAccount(
            "the operator names no system account; set one (operator system_account) or pass "
            "the system account explicitly"
        )
    if not keys.is_valid_public_key(system_account) or not system_account.startswith("A"):
        raise NoSystemAccount(
            f"system account must be an account public key (A...), got {system_account!r}"
        )
    if signer is None:
        raise NoSystemSeed(
            f"no seed for system account {system_account} or an unscoped signing key of it; "
            "import one into the keystore or pass a system user's creds"
        )
    if signer.prefix is not keys.Prefix.ACCOUNT:
        role = _a(signer.prefix.role)
        raise NoSystemSeed(
            f"the system user must be signed by an account key (SA...), got {role} seed"
        )

    from nscpy.jwt import Permission, UserClaims, encode

    user = keys.create_pair(keys.Prefix.USER, rng=rng)
    claims = UserClaims.new(user.public_key)
    claims.name = TEMPORARY_USER_NAME
    claims.expires = now + TEMPORARY_USER_LIFETIME
    claims.pub = Permission(allow=list(TEMPORARY_USER_PUBLISH))
    claims.sub = Permission(allow=list(TEMPORARY_USER_SUBSCRIBE))
    if signer.public_key != system_account:
        # Signed by a signing key: the server needs to know which account it speaks for.
        claims.issuer_account = system_account
    token = encode(claims, signer, iat=now)
    return SystemUser(jwt=token, seed=user.seed, public_key=user.public_key, expires=claims.expires)
