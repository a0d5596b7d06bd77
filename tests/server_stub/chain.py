"""A small trust-chain factory for operator-mode tests: operator, accounts, users, server config.

Everything is minted with nscpy.jwt + nscpy.keys, so the same tokens go to the stub and to the
real nats-server. Accounts are edited through callbacks on AccountClaims / UserClaims.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nscpy import jwt, keys

AccountEdit = Callable[[jwt.AccountClaims], None]
UserEdit = Callable[[jwt.UserClaims], None]


@dataclass
class Creds:
    """A minted user: its JWT, seed, and a creds file when written."""

    jwt: str
    kp: keys.KeyPair
    path: Path | None = None

    @property
    def seed(self) -> str:
        return self.kp.seed

    @property
    def public_key(self) -> str:
        return self.kp.public_key


@dataclass
class Chain:
    """An operator with a signing key, a SYS account and named accounts, each with a signing key."""

    operator: keys.KeyPair
    op_signer: keys.KeyPair
    accounts: dict[str, keys.KeyPair]
    signers: dict[str, keys.KeyPair]
    edits: dict[str, list[AccountEdit]] = field(default_factory=dict)
    strict: bool = False
    tmp: Path = Path(".")

    @classmethod
    def create(cls, tmp: Path, *names: str, strict: bool = False) -> Chain:
        accounts = {n: keys.create_pair(keys.Prefix.ACCOUNT) for n in ("SYS", *names)}
        signers = {n: keys.create_pair(keys.Prefix.ACCOUNT) for n in accounts}
        return cls(
            keys.create_pair(keys.Prefix.OPERATOR),
            keys.create_pair(keys.Prefix.OPERATOR),
            accounts,
            signers,
            strict=strict,
            tmp=tmp,
        )

    def pub(self, name: str) -> str:
        """The account's public key."""
        return self.accounts[name].public_key

    def operator_jwt(self) -> str:
        claims = jwt.OperatorClaims.new(self.operator.public_key)
        claims.name = "OP"
        claims.system_account = self.pub("SYS")
        claims.signing_keys = [self.op_signer.public_key]
        claims.strict_signing_key_usage = self.strict
        return jwt.encode(claims, self.operator, iat=int(time.time()))

    def account_claims(self, name: str, *edits: AccountEdit) -> jwt.AccountClaims:
        claims = jwt.AccountClaims.new(self.pub(name))
        claims.name = name
        claims.signing_keys.add(self.signers[name].public_key)
        for edit in (*self.edits.get(name, []), *edits):
            edit(claims)
        return claims

    def account_jwt(
        self,
        name: str,
        *edits: AccountEdit,
        signer: keys.KeyPair | None = None,
        iat: int | None = None,
    ) -> str:
        """The account JWT, signed by the operator signing key unless told otherwise."""
        claims = self.account_claims(name, *edits)
        now = int(time.time()) if iat is None else iat
        return jwt.encode(claims, signer or self.op_signer, iat=now)

    def user(
        self,
        account: str,
        *edits: UserEdit,
        signer: keys.KeyPair | None = None,
        issuer_account: bool | None = None,
        iat: int | None = None,
        name: str = "u",
        scoped: bool = False,
    ) -> Creds:
        """A user of `account`, signed by the account key (or `signer`), with a creds file."""
        kp = keys.create_pair(keys.Prefix.USER)
        claims = jwt.UserClaims.new(kp.public_key)
        claims.name = name
        if scoped:  # a scoped signing key signs only users without permissions or limits
            claims.set_scoped()
        sign = signer or self.accounts[account]
        if issuer_account if issuer_account is not None else sign is not self.accounts[account]:
            claims.issuer_account = self.pub(account)
        for edit in edits:
            edit(claims)
        token = jwt.encode(claims, sign, iat=int(time.time()) if iat is None else iat)
        path = self.tmp / f"{kp.public_key[:12]}.creds"
        path.write_text(jwt.format_user_creds(token, kp.seed))
        return Creds(token, kp, path)

    def config(
        self,
        name: str,
        *,
        resolver: str = "MEMORY",
        preload: Iterable[str] | None = None,
        extra: str = "",
        jwts: dict[str, str] | None = None,
    ) -> Path:
        """Write <tmp>/<name>.conf: operator file, system_account, resolver and preloads."""
        op = self.tmp / f"{name}-operator.jwt"
        op.write_text(self.operator_jwt())
        names = list(self.accounts) if preload is None else ["SYS", *preload]
        tokens = {self.pub(n): self.account_jwt(n) for n in names}
        tokens.update(jwts or {})
        lines = [f'operator: "{op}"', f"system_account: {self.pub('SYS')}"]
        if resolver == "MEMORY":
            lines.append("resolver: MEMORY")
        else:
            d = self.tmp / f"{name}-jwt"
            lines.append(f'resolver {{ type: full, dir: "{d}", allow_delete: true }}')
        lines.append("resolver_preload {")
        lines += [f'  {k}: "{v}"' for k, v in tokens.items()]
        lines.append("}")
        path = self.tmp / f"{name}.conf"
        path.write_text("\n".join(lines) + "\n" + extra)
        return path


def allow(*subjects: str) -> jwt.Permission:
    """A Permission with these allow subjects."""
    return jwt.Permission(allow=list(subjects))
