"""Account signing keys: plain keys, or scoped keys whose users get a permission template."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nscpy.jwt._model import (
    Model,
    dec_model,
    dec_str,
    enc_model,
    wire,
)
from nscpy.jwt.claims import Claims, is_key
from nscpy.jwt.errors import MalformedToken
from nscpy.jwt.permissions import NO_LIMIT, UserPermissionLimits
from nscpy.jwt.user import UserClaims
from nscpy.jwt.validation import ValidationResults, go_quote
from nscpy.keys import Prefix

__all__ = ["USER_SCOPE", "UserScope", "SigningKeys", "dec_signing_keys", "enc_signing_keys"]

USER_SCOPE = "user_scope"
"""The only scope kind."""


def _dec_scope_kind(raw: Any, where: str) -> str:
    if raw != USER_SCOPE:
        raise MalformedToken(f"unknown scope type {go_quote(str(raw))}")
    return USER_SCOPE


def _new_template() -> UserPermissionLimits:
    # Go's NewUserScope pre-fills -1 so a template without counts means unlimited
    return UserPermissionLimits(subs=NO_LIMIT, data=NO_LIMIT, payload=NO_LIMIT)


def _dec_template(raw: Any, where: str) -> UserPermissionLimits:
    template = _new_template()
    template.load_json(raw, where)
    return template


@dataclass
class UserScope(Model):
    """A scoped signing key: users it signs get `template` instead of their own permissions."""

    kind: str = field(default=USER_SCOPE, metadata=wire(dec=_dec_scope_kind, omitempty=False))
    key: str = field(default="", metadata=wire(dec=dec_str, omitempty=False))
    role: str = field(default="", metadata=wire(dec=dec_str, omitempty=False))
    template: UserPermissionLimits = field(
        default_factory=_new_template,
        metadata=wire(enc=enc_model, dec=_dec_template, omitempty=False),
    )
    description: str = field(default="", metadata=wire(dec=dec_str, omitempty=False))

    @property
    def signing_key(self) -> str:
        """The scoped key."""
        return self.key

    def validate(self, results: ValidationResults) -> None:
        """The key must be an account key."""
        if not is_key(self.key, Prefix.ACCOUNT):
            results.add_error(f"{self.key} is not an account public key")

    def scoped_signer_error(self, claims: Claims) -> str | None:
        """Why this scope may not sign claims (None when it may): Go's ValidateScopedSigner."""
        if not isinstance(claims, UserClaims):
            return "not an user claim - scoped signing key requires user claim"
        if claims.issuer != self.key:
            return "issuer not the scoped signer"
        if not claims.has_empty_permissions():
            return "scoped users require no permissions or limits set"
        return None


class SigningKeys(dict[str, "UserScope | None"]):
    """Signing key -> its scope (None for a plain key); written as one key-sorted array."""

    def add(self, *keys: str) -> None:
        """Add plain (unscoped) signing keys."""
        for key in keys:
            self[key] = None

    def add_scoped(self, scope: UserScope) -> None:
        """Add (or replace) a scoped signing key."""
        self[scope.key] = scope

    def remove(self, *keys: str) -> None:
        """Forget signing keys."""
        for key in keys:
            self.pop(key, None)

    def get_scope(self, key: str) -> UserScope | None:
        """The scope of key (None for a plain key or an unknown one)."""
        return self.get(key)

    def validate(self, results: ValidationResults) -> None:
        """Every key (and every scope's key) is an account key."""
        for key, scope in self.items():
            if scope is not None:
                scope.validate(results)
            elif not is_key(key, Prefix.ACCOUNT):
                results.add_error(f"{go_quote(key)} is not a valid account signing key")


def enc_signing_keys(value: SigningKeys) -> list[Any]:
    """Sorted by key; plain keys as strings, scoped keys as objects."""
    out: list[Any] = []
    for key in sorted(value):
        scope = value[key]
        out.append(key if scope is None else scope.to_json_dict())
    return out


def dec_signing_keys(raw: Any, where: str) -> SigningKeys:
    """An array of strings and scope objects (other elements are ignored, as in Go)."""
    if type(raw) is not list:
        raise MalformedToken(f"JSON field {where!r} must be an array")
    keys = SigningKeys()
    for item in raw:
        if type(item) is str:
            keys[item] = None
        elif type(item) is dict:
            if item.get("kind") != USER_SCOPE:
                raise MalformedToken(f"unknown signing key scope {go_quote(str(item.get('kind')))}")
            scope = dec_model(UserScope)(item, where)
            keys[scope.key] = scope
    return keys
