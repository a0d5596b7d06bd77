"""The typed decoders (Go's DecodeAccountClaims …): the right kind back, the wrong kind refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from nscpy import jwt
from nscpy.keys import KeyPair, Prefix, create_pair

IAT = 1_800_000_000


def _pair(prefix: Prefix, byte: int) -> KeyPair:
    return create_pair(prefix, rng=lambda n: bytes([byte]) * n)


OPERATOR = _pair(Prefix.OPERATOR, 1)
ACCOUNT = _pair(Prefix.ACCOUNT, 2)
IMPORTER = _pair(Prefix.ACCOUNT, 3)
USER = _pair(Prefix.USER, 4)


def _activation() -> jwt.ActivationClaims:
    claims = jwt.ActivationClaims.new(IMPORTER.public_key)
    claims.import_subject, claims.import_type = "orders.>", "service"
    return claims


TOKENS: dict[str, str] = {
    "operator": jwt.encode(jwt.OperatorClaims.new(OPERATOR.public_key), OPERATOR, iat=IAT),
    "account": jwt.encode(jwt.AccountClaims.new(ACCOUNT.public_key), OPERATOR, iat=IAT),
    "user": jwt.encode(jwt.UserClaims.new(USER.public_key), ACCOUNT, iat=IAT),
    "activation": jwt.encode(_activation(), ACCOUNT, iat=IAT),
}

DECODERS: dict[str, tuple[Callable[[str], Any], type[jwt.Claims]]] = {
    "operator": (jwt.decode_operator, jwt.OperatorClaims),
    "account": (jwt.decode_account, jwt.AccountClaims),
    "user": (jwt.decode_user, jwt.UserClaims),
    "activation": (jwt.decode_activation, jwt.ActivationClaims),
}


@pytest.mark.parametrize("kind", sorted(DECODERS))
def test_right_kind_decodes_to_its_class(kind: str) -> None:
    decoder, cls = DECODERS[kind]
    claims = decoder(TOKENS[kind])
    assert type(claims) is cls
    assert claims == jwt.decode(TOKENS[kind])


@pytest.mark.parametrize(
    ("wanted", "given"),
    [(w, g) for w in sorted(DECODERS) for g in sorted(TOKENS) if w != g],
)
def test_wrong_kind_names_both_kinds(wanted: str, given: str) -> None:
    decoder, _ = DECODERS[wanted]
    with pytest.raises(jwt.WrongKind) as caught:
        decoder(TOKENS[given])
    assert (caught.value.expected, caught.value.actual) == (wanted, given)
    article = {"user": "a"}
    expected_text = (
        f"the token is {article.get(given, 'an')} {given} JWT, "
        f"not {article.get(wanted, 'an')} {wanted} JWT"
    )
    assert str(caught.value) == expected_text


def test_wrong_kind_is_a_jwt_error_and_a_value_error() -> None:
    # callers catching JWTError (or ValueError at the CLI edge) need no new except clause
    with pytest.raises(jwt.JWTError):
        jwt.decode_user(TOKENS["account"])
    with pytest.raises(ValueError, match="the token is an account JWT, not a user JWT"):
        jwt.decode_user(TOKENS["account"])


def test_broken_token_fails_before_its_kind_is_checked() -> None:
    # as Go's DecodeXxxClaims: Decode's error first, so a forged token never reads as "wrong kind"
    head, payload, sig = TOKENS["user"].split(".")
    forged = f"{head}.{payload}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}"
    with pytest.raises(jwt.BadSignature):
        jwt.decode_account(forged)


def test_decode_kind_takes_any_claim_class() -> None:
    assert jwt.decode_kind(TOKENS["user"], jwt.UserClaims).subject == USER.public_key
    with pytest.raises(jwt.WrongKind, match="not an operator JWT"):
        jwt.decode_kind(TOKENS["user"], jwt.OperatorClaims)
