"""Claim fields are declared once: the dataclass field's wire metadata drives JSON both ways."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from nscpy import jwt
from nscpy.jwt._model import Model, dec_int, dec_str, dec_str_list, wire
from nscpy.jwt.claims import STANDARD_FIELDS


@dataclass
class Inner(Model):
    depth: int = field(default=0, metadata=wire(dec=dec_int))


@dataclass
class Base(Model):
    first: str = field(default="", metadata=wire("1st", dec=dec_str))
    tags: list[str] = field(default_factory=list, metadata=wire(dec=dec_str_list, nullable=True))
    scratch: int = 0  # no wire metadata: never written, never read


@dataclass
class Derived(Base):
    inner: Inner = field(default_factory=Inner, metadata=wire(dec=Inner, flat=True))  # type: ignore[arg-type]
    count: int = field(default=0, metadata=wire(dec=dec_int, omitempty=False))


def test_declaration_order_is_json_order_bases_first() -> None:
    assert [f.name for f in Derived.FIELDS] == ["1st", "tags", "", "count"]
    value = Derived(first="a", tags=["t"], scratch=7, inner=Inner(depth=2), count=0)
    assert value.to_json_dict() == {"1st": "a", "tags": ["t"], "depth": 2, "count": 0}


def test_reading_follows_the_same_declaration() -> None:
    raw = {"1ST": "b", "depth": 3, "scratch": 9, "tags": None}
    value = Derived.from_json_dict(raw)
    assert (value.first, value.inner.depth, value.scratch, value.tags) == ("b", 3, 0, [])
    with pytest.raises(jwt.MalformedToken, match="'count' must be a 64-bit integer"):
        Derived.from_json_dict({"count": "x"})


def test_every_claim_field_written_is_a_declared_dataclass_field() -> None:
    for cls in (jwt.OperatorClaims, jwt.AccountClaims, jwt.UserClaims, jwt.ActivationClaims):
        attrs = {f.name for f in dataclasses.fields(cls)}
        assert {f.attr for f in cls.NATS_FIELDS} <= attrs
        assert cls.FIELDS == STANDARD_FIELDS
    assert [f.name for f in STANDARD_FIELDS] == [
        "aud", "exp", "jti", "iat", "iss", "name", "nbf", "sub",
    ]  # fmt: skip
    # Go's UserScope field order: kind first
    assert [f.name for f in jwt.UserScope.FIELDS] == [
        "kind",
        "key",
        "role",
        "template",
        "description",
    ]
