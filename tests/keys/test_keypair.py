"""KeyPair, PublicKey and CurveKeyPair: what each type can do and what it shows."""

from __future__ import annotations

import pytest

from nscpy import keys
from nscpy.keys import Prefix

ROLES = sorted(keys.PUBLIC_PREFIXES)


@pytest.mark.parametrize("role", ROLES, ids=[r.role for r in ROLES])
def test_repr_and_str_never_show_the_seed(role: Prefix) -> None:
    raw = bytes(range(7, 39))
    pair = keys.create(role, rng=lambda n: raw)
    secrets = [pair.seed, pair.seed[2:], pair.private_key, raw.hex()]
    for shown in (repr(pair), str(pair), f"{pair}", f"{pair!r}", repr([pair]), repr({1: pair})):
        for secret in secrets:
            assert secret not in shown
        assert role.role in shown
        assert pair.public_key in shown


def test_pairs_keep_no_instance_dict_to_dump() -> None:
    # __slots__: vars()/__dict__ cannot spill the seed into logs by accident
    for pair in (keys.create_pair(Prefix.USER), keys.create_curve_pair()):
        assert not hasattr(pair, "__dict__")


def test_public_key_cannot_sign() -> None:
    pair = keys.create_pair(Prefix.ACCOUNT)
    public = pair.public()
    # no sign method at all, so mypy rejects `public.sign(...)` before anything runs
    assert not hasattr(public, "sign")
    assert not hasattr(keys.PublicKey, "sign")
    for secret_attr in ("seed", "raw_seed", "private_key"):
        assert not hasattr(public, secret_attr)
    with pytest.raises(AttributeError):
        # warn_unused_ignores is on: if PublicKey ever grew sign(), mypy would flag this ignore
        public.sign(b"data")  # type: ignore[attr-defined]
    public.verify(b"data", pair.sign(b"data"))


def test_public_key_value_semantics() -> None:
    pair = keys.create_pair(Prefix.OPERATOR)
    a, b = pair.public(), keys.from_public_key(pair.public_key)
    assert a == b and hash(a) == hash(b)
    assert a != keys.create_pair(Prefix.OPERATOR).public()
    assert a.prefix is Prefix.OPERATOR
    assert a.raw == pair.raw_public
    assert repr(a) == f"PublicKey(operator, {pair.public_key})"


def test_create_uses_the_given_randomness() -> None:
    calls: list[int] = []

    def rng(n: int) -> bytes:
        calls.append(n)
        return b"\x42" * n

    user = keys.create_pair(Prefix.USER, rng=rng)
    curve = keys.create_curve_pair(rng=rng)
    assert calls == [32, 32]
    assert user.raw_seed == b"\x42" * 32
    assert keys.decode_seed(curve.seed) == (Prefix.CURVE, b"\x42" * 32)
    assert keys.create_pair(Prefix.USER).seed != keys.create_pair(Prefix.USER).seed


def test_from_seed_returns_the_right_type() -> None:
    assert isinstance(keys.from_seed(keys.create_pair(Prefix.SERVER).seed), keys.KeyPair)
    assert isinstance(keys.from_seed(keys.create_curve_pair().seed), keys.CurveKeyPair)
    assert isinstance(keys.create(Prefix.CURVE), keys.CurveKeyPair)
    assert isinstance(keys.create(Prefix.CLUSTER), keys.KeyPair)
