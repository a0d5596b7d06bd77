"""Interop with independent implementations: PyJWT (through our alg) and the nats-jwt package."""

from __future__ import annotations

import json
from typing import Any

import pytest

from nscpy import jwt
from nscpy.keys import Prefix, create_pair

ACCOUNT = create_pair(Prefix.ACCOUNT, rng=lambda n: b"\x21" * n)
OPERATOR = create_pair(Prefix.OPERATOR, rng=lambda n: b"\x22" * n)
USER = create_pair(Prefix.USER, rng=lambda n: b"\x23" * n)


def _user_token() -> str:
    user = jwt.UserClaims.new(USER.public_key)
    user.name = "interop <&>"
    user.pub.allow = ["foo.>"]
    return jwt.encode(user, ACCOUNT, iat=1_700_000_000)


def test_pyjwt_verifies_nscpy_token() -> None:
    import jwt as pyjwt

    from nscpy.jwt.pyjwt_alg import ALG, register

    register()
    token = _user_token()
    claims = pyjwt.decode(
        token, ACCOUNT.public_key, algorithms=[ALG], options={"verify_aud": False}
    )
    assert claims["sub"] == USER.public_key
    assert claims["nats"]["pub"] == {"allow": ["foo.>"]}
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, OPERATOR.public_key, algorithms=[ALG])


def test_pyjwt_signed_token_decodes_in_nscpy() -> None:
    import jwt as pyjwt

    from nscpy.jwt.pyjwt_alg import ALG, header, register

    register()
    payload: dict[str, Any] = jwt.decode(_user_token()).to_json_dict()
    token = pyjwt.encode(payload, ACCOUNT.seed, algorithm=ALG, headers=header(), sort_headers=False)
    assert token.split(".")[0] == "eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ"
    claims = jwt.decode(token)
    assert isinstance(claims, jwt.UserClaims)
    assert claims.to_json_dict() == payload


def test_nats_jwt_package_decodes_nscpy_tokens() -> None:
    decoder = pytest.importorskip("nats_jwt.v2.decoder")
    user = decoder.decode(_user_token())
    assert user.sub == USER.public_key
    assert user.iss == ACCOUNT.public_key
    # nats-jwt 0.2 requires "name" (Go omits it when empty) and cannot read the signing_keys
    # array Go writes, so these tokens carry a name and no signing keys
    account = jwt.AccountClaims.new(ACCOUNT.public_key)
    account.name = "A"
    decoded = decoder.decode(jwt.encode(account, OPERATOR, iat=1_700_000_000))
    assert decoded.sub == ACCOUNT.public_key
    operator = jwt.OperatorClaims.new(OPERATOR.public_key)
    operator.name = "O"
    assert decoder.decode(jwt.encode(operator, OPERATOR, iat=1_700_000_000)).iss == (
        OPERATOR.public_key
    )


def test_go_header_order_is_kept() -> None:
    head = _user_token().split(".")[0]
    import base64

    assert json.loads(base64.urlsafe_b64decode(head + "==")) == {
        "typ": "JWT",
        "alg": "ed25519-nkey",
    }
    assert base64.urlsafe_b64decode(head + "==") == jwt.HEADER
