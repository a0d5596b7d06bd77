"""Reading v1 tokens: their payload layout differs, and Go migrates them to v2 claims on decode.

v1 put type, tags and issuer_account at the top level, named the activation kind `type` inside
nats, and defaulted some limits to -1. Only the fields v1 had are read; the result has version 1.
"""

from __future__ import annotations

from typing import Any, TypeVar

from nscpy.jwt._model import dec_int, dec_str, dec_str_list, fold_keys
from nscpy.jwt.claims import STANDARD_FIELDS, Claims, ClaimType, find_nats
from nscpy.jwt.errors import MalformedToken
from nscpy.jwt.permissions import NO_LIMIT

__all__ = ["load_v1"]

C = TypeVar("C", bound=Claims)

_V1_NATS: dict[str, frozenset[str]] = {
    ClaimType.OPERATOR: frozenset(
        ("signing_keys", "account_server_url", "operator_service_urls", "system_account")
    ),
    ClaimType.ACCOUNT: frozenset(("imports", "exports", "limits", "signing_keys", "revocations")),
    ClaimType.USER: frozenset(
        (
            "pub",
            "sub",
            "resp",
            "src",
            "times",
            "times_location",
            "subs",
            "data",
            "payload",
            "bearer_token",
        )
    ),
    ClaimType.ACTIVATION: frozenset(("subject",)),
}
_V1_LIMITS = frozenset(
    (
        "subs",
        "data",
        "payload",
        "imports",
        "exports",
        "wildcards",
        "disallow_bearer",
        "conn",
        "leaf",
    )
)
_TOP = frozenset(f.name for f in STANDARD_FIELDS) | {"nats", "type", "tags", "issuer_account"}


def load_v1(cls: type[C], payload: dict[str, Any]) -> C:
    """Migrate a v1 payload of kind cls.CLAIM_TYPE to v2 claims (version 1), as Go does."""
    kind = cls.CLAIM_TYPE
    top = fold_keys(payload, _TOP)
    raw_nats = find_nats(payload)
    nats_in = {} if raw_nats is None else raw_nats
    if type(nats_in) is not dict:
        raise MalformedToken("JSON field 'nats' must be an object")
    wanted = _V1_NATS[kind]
    nats_in = fold_keys(nats_in, wanted | {"type", "max"})
    nats: dict[str, Any] = {k: v for k, v in nats_in.items() if k in wanted}
    if kind == ClaimType.ACCOUNT:
        limits = nats.get("limits")
        if type(limits) is dict:
            nats["limits"] = {
                k: v for k, v in fold_keys(limits, _V1_LIMITS).items() if k in _V1_LIMITS
            }
        if nats.get("signing_keys") is not None:
            dec_str_list(nats["signing_keys"], "signing_keys")
    if kind == ClaimType.ACTIVATION and nats_in.get("type") is not None:
        nats["kind"] = nats_in["type"]
    if kind in (ClaimType.USER, ClaimType.ACTIVATION) and nats_in.get("max") is not None:
        dec_int(nats_in["max"], "max")
    if top.get("tags") is not None:
        nats["tags"] = top["tags"]
    if top.get("issuer_account") is not None and kind in (ClaimType.USER, ClaimType.ACTIVATION):
        nats["issuer_account"] = dec_str(top["issuer_account"], "issuer_account")
    migrated = {k: v for k, v in top.items() if k not in ("nats", "type", "tags", "issuer_account")}
    migrated["nats"] = nats
    claims = cls()
    if kind == ClaimType.USER:
        claims.subs = claims.data = claims.payload = NO_LIMIT  # type: ignore[attr-defined]
    claims.load_json(migrated)
    claims.version = 1
    return claims
