"""A tiny NATS JWT v2 minter for resolver tests: an operator, its accounts and users.

The tokens follow the shapes in shared/docs/server-behavior.md §1 (header, jti over the standard
fields, v2 signature over "header.payload"), which is all nats-server checks.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from nscpy import keys

HEADER = base64.urlsafe_b64encode(b'{"typ":"JWT","alg":"ed25519-nkey"}').rstrip(b"=").decode()

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


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def encode(sub: str, name: str, nats: dict[str, Any], signer: keys.KeyPair, **std: Any) -> str:
    """Sign a claims set; `std` may carry exp/iat overrides."""
    iat = std.pop("iat", int(time.time()))
    claims: dict[str, Any] = {}
    if "exp" in std:
        claims["exp"] = std.pop("exp")
    claims.update({"jti": "", "iat": iat, "iss": signer.public_key, "name": name, "sub": sub})
    hashed = json.dumps({k: v for k, v in claims.items() if v != ""}, separators=(",", ":"))
    claims["jti"] = base64.b32encode(hashlib.new("sha512_256", hashed.encode()).digest())
    claims["jti"] = claims["jti"].decode().rstrip("=")
    claims["nats"] = nats
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{HEADER}.{body}"
    return f"{signing_input}.{_b64(signer.sign(signing_input.encode()))}"


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
