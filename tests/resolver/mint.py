"""A small world for resolver tests: an operator, its accounts and users, minted with nscpy.jwt."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from nscpy import jwt as nj
from nscpy import keys

UNLIMITED_ACCOUNT = {
    "subs": -1,
    "data": -1,
    "payload": -1,
    "imports": -1,
    "exports": -1,
    "wildcards": True,
    "conn": -1,
    "leaf": -1,
}


_KINDS: dict[str, Any] = {
    "operator": nj.OperatorClaims,
    "account": nj.AccountClaims,
    "user": nj.UserClaims,
}


def encode(sub: str, name: str, nats: dict[str, Any], signer: keys.KeyPair, **std: Any) -> str:
    """Sign a claims set with nscpy.jwt; `std` may carry exp/iat overrides."""
    iat = std.pop("iat", int(time.time()))
    payload: dict[str, Any] = {"sub": sub, "name": name, "nats": nats}
    if "exp" in std:
        payload["exp"] = std.pop("exp")
    claims = _KINDS[nats["type"]].from_json_dict(payload)
    return str(nj.encode(claims, signer, iat=iat))


@dataclass
class Account:
    name: str
    kp: keys.KeyPair
    revocations: dict[str, int] = field(default_factory=dict)
    signing_keys: list[str] = field(default_factory=list)

    @property
    def pub(self) -> str:
        return self.kp.public_key


@dataclass
class User:
    name: str
    kp: keys.KeyPair
    jwt: str

    @property
    def seed(self) -> str:
        return self.kp.seed


@dataclass
class World:
    """An operator with a SYS account and named accounts; everything minted on demand."""

    operator: keys.KeyPair
    sys: Account
    accounts: dict[str, Account]

    @classmethod
    def create(cls, *names: str) -> World:
        sys = Account("SYS", keys.create_pair(keys.Prefix.ACCOUNT))
        accounts = {n: Account(n, keys.create_pair(keys.Prefix.ACCOUNT)) for n in names}
        return cls(keys.create_pair(keys.Prefix.OPERATOR), sys, accounts)

    @property
    def operator_jwt(self) -> str:
        nats = {"system_account": self.sys.pub, "type": "operator", "version": 2}
        return encode(self.operator.public_key, "OP", nats, self.operator)

    def account_jwt(self, account: Account, signer: keys.KeyPair | None = None, **std: Any) -> str:
        nats: dict[str, Any] = {
            "limits": UNLIMITED_ACCOUNT,
            "default_permissions": {"pub": {}, "sub": {}},
            "authorization": {},
            "type": "account",
            "version": 2,
        }
        if account.signing_keys:
            nats["signing_keys"] = list(account.signing_keys)
        if account.revocations:
            nats["revocations"] = dict(sorted(account.revocations.items()))
        return encode(account.pub, account.name, nats, signer or self.operator, **std)

    def account(self, name: str) -> Account:
        return self.sys if name == "SYS" else self.accounts[name]

    def all_account_jwts(self) -> dict[str, str]:
        return {a.pub: self.account_jwt(a) for a in self.accounts.values()}

    def user(self, account_name: str, name: str = "u", **perms: Any) -> User:
        account = self.account(account_name)
        kp = keys.create_pair(keys.Prefix.USER)
        nats: dict[str, Any] = {
            "pub": perms.get("pub", {}),
            "sub": perms.get("sub", {}),
            "subs": -1,
            "data": -1,
            "payload": -1,
            "type": "user",
            "version": 2,
        }
        std = {k: v for k, v in perms.items() if k in ("exp", "iat")}
        return User(name, kp, encode(kp.public_key, name, nats, account.kp, **std))
