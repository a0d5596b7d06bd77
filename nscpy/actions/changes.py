"""A plan's data: per-entity planned claims, the change lines, and the claim-level diff."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nscpy import keys

__all__ = ["Change", "EntityPlan", "Plan", "claim_diff"]


@dataclass
class Change:
    """One line of a plan: what happens to which entity, and which claims differ."""

    action: str  # create | update | delete | revoke
    kind: str  # operator | account | user
    name: str
    account: str = ""
    diff: list[tuple[str, Any, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (claim values as they appear in the JWT; never a seed)."""
        out: dict[str, Any] = {"action": self.action, "kind": self.kind, "name": self.name}
        if self.account:
            out["account"] = self.account
        if self.diff:
            out["diff"] = [{"claim": c, "old": old, "new": new} for c, old, new in self.diff]
        return out


@dataclass
class EntityPlan:
    """The planned claims of one entity and what signing them needs."""

    kind: str
    name: str
    claims: Any
    signer: str  # public key of the key that signs (or would sign) the claims
    new_pair: keys.KeyPair | None = None
    stored: str | None = None  # the stored token
    changed: bool = False
    account: str = ""
    diff: list[tuple[str, Any, Any]] = field(default_factory=list)
    relative_times: bool = False


@dataclass
class Plan:
    """Everything apply needs: per-entity plans, new keys, deletions, and the report."""

    operator: str
    now: int
    operator_plan: EntityPlan
    accounts: dict[str, EntityPlan] = field(default_factory=dict)
    users: dict[str, list[EntityPlan]] = field(default_factory=dict)
    new_keys: dict[str, keys.KeyPair] = field(default_factory=dict)
    delete_accounts: list[str] = field(default_factory=list)
    delete_users: dict[str, list[str]] = field(default_factory=dict)
    operator_exists: bool = True
    unchanged: int = 0
    keyring: Any = field(default=None, repr=False)
    """The seeds this run can sign with (new keys first, then the keystore)."""

    def changes(self) -> list[Change]:
        """The plan's lines: operator, accounts, users, then deletions."""
        out: list[Change] = []
        for p in (self.operator_plan, *self.accounts.values()):
            if p.changed:
                out.append(_change(p))
        for plans in self.users.values():
            out.extend(_change(p) for p in plans if p.changed)
        for account, names in self.delete_users.items():
            out.extend(Change("revoke", "user", n, account) for n in names)
        out.extend(Change("delete", "account", a) for a in self.delete_accounts)
        return out

    def has_changes(self) -> bool:
        """True when apply would write anything."""
        return bool(self.changes())


def _change(p: EntityPlan) -> Change:
    return Change("update" if p.stored else "create", p.kind, p.name, p.account, p.diff)


# -- comparing claims ----------------------------------------------------------------------------
_SIGNING_SET = ("iat", "jti")


def _content(claims: Any) -> dict[str, Any]:
    out: dict[str, Any] = claims.to_json_dict()
    for key in _SIGNING_SET:
        out.pop(key, None)
    nats = dict(out.get("nats", {}))
    nats.pop("version", None)
    out["nats"] = nats
    return out


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, sub in value.items():
            _flatten(sub, f"{prefix}.{key}" if prefix else str(key), out)
    else:
        out[prefix] = value


def claim_diff(old: Any, new: Any) -> list[tuple[str, Any, Any]]:
    """(claim path, old value, new value) for every claim that differs."""
    a: dict[str, Any] = {}
    b: dict[str, Any] = {}
    _flatten(_content(old), "", a)
    _flatten(_content(new), "", b)
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
