"""Creds files (Go's exact text, both parsers) and revocation semantics (Go's vectors)."""

from __future__ import annotations

from typing import Any

import pytest

from nscpy import jwt
from nscpy.jwt.creds import decorate_seed, format_jwt
from nscpy.keys import KeyPair, Prefix, create_pair

IAT = 1795876146


def test_creds_vector(vectors: dict[str, Any]) -> None:
    text = vectors["creds_file"]["content"]
    token = jwt.parse_decorated_jwt(text)
    seed = jwt.parse_decorated_seed(text)
    assert jwt.format_user_creds(token, seed) == text
    assert KeyPair.from_seed(seed).public_key == jwt.decode(token).subject


def test_creds_refuses_mismatches(vectors: dict[str, Any]) -> None:
    text = vectors["creds_file"]["content"]
    token = jwt.parse_decorated_jwt(text)
    other = create_pair(Prefix.USER, rng=lambda n: b"\x01" * n)
    with pytest.raises(jwt.InvalidClaims, match="does not match the jwt subject"):
        jwt.format_user_creds(token, other.seed)
    account = create_pair(Prefix.ACCOUNT, rng=lambda n: b"\x02" * n)
    with pytest.raises(jwt.InvalidClaims, match="not an user seed"):
        jwt.format_user_creds(token, account.seed)
    operator_token = next(v for v in vectors["jwts"] if v["go_claim_type"] == "operator")["token"]
    with pytest.raises(jwt.InvalidClaims, match="cannot be serialized as a user config"):
        jwt.format_user_creds(operator_token, other.seed)


def test_creds_fallbacks() -> None:
    seed = create_pair(Prefix.USER, rng=lambda n: b"\x03" * n).seed
    assert jwt.parse_decorated_jwt("eyJhbGc.x.y") == "eyJhbGc.x.y"
    # nsc's seed extractor: the first line that starts with SO/SA/SU after trimming
    assert jwt.parse_decorated_seed(f"junk\n   {seed}  \nmore") == seed
    crlf = format_jwt("user", "aaa.bbb.ccc").replace("\n", "\r\n") + decorate_seed(seed)
    assert jwt.parse_decorated_jwt(crlf) == "aaa.bbb.ccc"
    assert jwt.parse_decorated_seed(crlf) == seed
    with pytest.raises(jwt.MalformedToken, match="no nkey seed found"):
        jwt.parse_decorated_seed("nothing here")
    assert decorate_seed(seed).startswith("*" * 25 + " IMPORTANT ")


def test_revocation_vectors(vectors: dict[str, Any]) -> None:
    keep, window, everyone, compact = vectors["revocation_cases"]
    revocations = jwt.RevocationList()
    revocations.revoke("U1", 100)
    revocations.revoke("U1", 50)
    assert revocations["U1"] == keep["result_timestamp"]
    listed = jwt.RevocationList(window["revocations"])
    for case in window["cases"]:
        assert listed.is_revoked("U1", case["iat"]) is case["revoked"]
    star = jwt.RevocationList(everyone["revocations"])
    for case in everyone["cases"]:
        assert star.is_revoked(case["subject"], case["iat"]) is case["revoked"]
    before = jwt.RevocationList(compact["before"])
    assert before.compact() == [("U1", 200)]
    assert before == compact["after"]
    before.clear("*")
    assert before == {}


def test_account_revocation_of_users() -> None:
    account_key = create_pair(Prefix.ACCOUNT, rng=lambda n: b"\x04" * n)
    user_key = create_pair(Prefix.USER, rng=lambda n: b"\x05" * n)
    account = jwt.AccountClaims.new(account_key.public_key)
    user = jwt.UserClaims.new(user_key.public_key)
    jwt.encode(user, account_key, iat=1000)
    assert not account.is_claim_revoked(user)
    account.revoke(user_key.public_key, 1000)
    assert account.is_claim_revoked(user)
    token = jwt.encode(account, account_key, iat=2000)
    assert jwt.decode(token).revocations == {user_key.public_key: 1000}  # type: ignore[union-attr]
    jwt.encode(user, account_key, iat=1001)
    assert not account.is_claim_revoked(user)
    assert account.is_claim_revoked(None)
