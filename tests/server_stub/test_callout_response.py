"""The stub's auth callout response checks, without sockets: garbage only ever refuses."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nscpy import jwt, keys
from server_stub.auth import ConnectionInfo
from server_stub.callout import CalloutNeeded
from server_stub.callout_request import ServerSide
from server_stub.callout_response import CalloutRejected, check_response, log_reason

ISSUER = keys.create_pair(keys.Prefix.ACCOUNT)
SIDE = ServerSide(
    keys.create_pair(keys.Prefix.SERVER), keys.create_curve_pair(), "s", "127.0.0.1", "2.15.1", 2.0,
    {"$G", "AUTH", "ORDERS"},
)  # fmt: skip
USER = keys.create_pair(keys.Prefix.USER).public_key
SERVICE_X = keys.create_curve_pair()


def _need(xkey: str = "") -> CalloutNeeded:
    return CalloutNeeded("AUTH", ISSUER.public_key, operator_mode=False, xkey=xkey)


def _info() -> ConnectionInfo:
    return ConnectionInfo("127.0.0.1", 1, None, time.time())


def _response(user_jwt: str = "", error: str = "") -> bytes:
    claims = jwt.AuthorizationResponseClaims.new(USER)
    claims.audience, claims.jwt, claims.error = SIDE.key.public_key, user_jwt, error
    return jwt.encode(claims, ISSUER, iat=int(time.time())).encode()


def _user(aud: str = "ORDERS", expires: int = 0) -> str:
    user = jwt.UserClaims.new(USER)
    user.audience, user.expires = aud, expires
    user.pub.allow = ["orders.>"]
    return jwt.encode(user, ISSUER, iat=int(time.time()))


def test_a_good_response_places_the_user_with_its_permissions_and_expiry():
    exp = int(time.time()) + 60
    identity = check_response(_response(_user(expires=exp)), _need(), SIDE, USER, _info())
    assert (identity.account, identity.expires, identity.public_key) == ("ORDERS", exp, USER)
    assert identity.permissions is not None
    assert identity.permissions.can_publish("orders.x")
    assert not identity.permissions.can_publish("billing.x")


def test_a_sealed_response_is_opened_with_the_configured_xkey():
    sealed = SERVICE_X.seal(_response(_user()), SIDE.xkey.public_key)
    identity = check_response(sealed, _need(SERVICE_X.public_key), SIDE, USER, _info())
    assert identity.account == "ORDERS"


def test_error_and_texts():
    with pytest.raises(CalloutRejected) as caught:
        check_response(_response(error="nope"), _need(), SIDE, USER, _info())
    assert log_reason(caught.value) == "Auth callout service returned an error: nope"
    with pytest.raises(CalloutRejected) as caught:
        check_response(_response(_user(aud="NOPE")), _need(), SIDE, USER, _info())
    assert log_reason(caught.value).startswith('No valid account "NOPE"')


@given(st.binary(max_size=400), st.booleans())
def test_garbage_only_raises_callout_rejected(data: bytes, sealed: bool):
    need = _need(SERVICE_X.public_key if sealed else "")
    with pytest.raises(CalloutRejected):
        check_response(data, need, SIDE, USER, _info())
