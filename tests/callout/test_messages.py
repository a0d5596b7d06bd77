"""nscpy.callout.messages: reading requests and building responses, without a server."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nscpy import jwt, keys
from nscpy.callout import Allow, CalloutError
from nscpy.callout.messages import (
    REQUEST_AUDIENCE,
    XKEY_HEADER,
    build_response,
    issue_user,
    read_request,
)

SERVER = keys.create_pair(keys.Prefix.SERVER)
SERVER_X = keys.create_curve_pair()
SERVICE_X = keys.create_curve_pair()
ISSUER = keys.create_pair(keys.Prefix.ACCOUNT)
USER = keys.create_pair(keys.Prefix.USER)


def _request(
    *, audience: str = REQUEST_AUDIENCE, signer: keys.KeyPair = SERVER, exp: int = 0
) -> str:
    claims = jwt.AuthorizationRequestClaims.new(ISSUER.public_key)
    claims.audience = audience
    claims.user_nkey = USER.public_key
    claims.server_id.id = SERVER.public_key
    claims.server_id.name = "s"
    claims.connect_opts.user = "alice"
    claims.connect_opts.password = "pw"
    claims.expires = exp or int(time.time()) + 2
    return jwt.encode(claims, signer, iat=int(time.time()))


def test_plain_request_round_trip():
    request = read_request(_request().encode(), None, xkey=None, now=int(time.time()))
    assert (request.user, request.password, request.encrypted) == ("alice", "pw", False)
    response = build_response(request, ISSUER, user_jwt="x.y.z", xkey=None, iat=int(time.time()))
    claims = jwt.decode(response.decode())
    assert isinstance(claims, jwt.AuthorizationResponseClaims)
    assert (claims.subject, claims.audience, claims.jwt) == (
        USER.public_key,
        SERVER.public_key,
        "x.y.z",
    )


def test_sealed_request_gets_sealed_response():
    sealed = SERVER_X.seal(_request().encode(), SERVICE_X.public_key)
    headers = {XKEY_HEADER: SERVER_X.public_key}
    request = read_request(sealed, headers, xkey=SERVICE_X, now=int(time.time()))
    assert request.encrypted
    response = build_response(request, ISSUER, error="no", xkey=SERVICE_X, iat=int(time.time()))
    opened = SERVER_X.open(response, SERVICE_X.public_key)
    claims = jwt.decode(opened.decode())
    assert isinstance(claims, jwt.AuthorizationResponseClaims) and claims.error == "no"


@pytest.mark.parametrize(
    "payload, headers, xkey, message",
    [
        (_request(audience="other"), None, None, "request audience is 'other'"),
        (
            _request(signer=keys.create_pair(keys.Prefix.SERVER)),
            None,
            None,
            "not signed by the server",
        ),
        (_request(exp=int(time.time()) - 10), None, None, "invalid request"),
        (_request(), None, SERVICE_X, "has an xkey but the request is not encrypted"),
        (_request(), {XKEY_HEADER: SERVER_X.public_key}, None, "no xkey"),
        (_request(), {XKEY_HEADER: SERVER_X.public_key}, SERVICE_X, "cannot decrypt"),
    ],
)
def test_untrusted_requests_are_refused(payload, headers, xkey, message):
    with pytest.raises(CalloutError, match=message):
        read_request(payload.encode(), headers, xkey=xkey, now=int(time.time()))


def test_a_user_jwt_request_is_refused():
    user = jwt.UserClaims.new(USER.public_key)
    token = jwt.encode(user, ISSUER, iat=int(time.time()))
    with pytest.raises(CalloutError, match="expected an authorization_request JWT, got user"):
        read_request(token.encode(), None, xkey=None, now=int(time.time()))


@given(st.binary(max_size=300), st.booleans())
def test_garbage_only_raises_callout_error(data: bytes, sealed: bool):
    headers = {XKEY_HEADER: SERVER_X.public_key} if sealed else None
    with pytest.raises(CalloutError):
        read_request(data, headers, xkey=SERVICE_X if sealed else None, now=int(time.time()))


def test_issue_user_config_and_operator_mode():
    request = read_request(_request().encode(), None, xkey=None, now=int(time.time()))
    limits = jwt.UserPermissionLimits()
    limits.set_unlimited()
    limits.pub.allow = ["orders.>"]
    token = issue_user(request, Allow("ORDERS", limits, 99), ISSUER, account_key=None, iat=1)
    user = jwt.decode(token)
    assert isinstance(user, jwt.UserClaims)
    # config mode: placed by aud, never issuer_account
    assert (user.audience, user.issuer_account, user.pub.allow, user.expires) == (
        "ORDERS",
        "",
        ["orders.>"],
        99,
    )
    assert user.name == "alice"
    signing = keys.create_pair(keys.Prefix.ACCOUNT)
    token = issue_user(request, Allow("X"), signing, account_key=ISSUER.public_key, iat=1)
    user = jwt.decode(token)
    assert isinstance(user, jwt.UserClaims)
    assert (user.audience, user.issuer_account, user.issuer) == (
        "",
        ISSUER.public_key,
        signing.public_key,
    )


def test_scoped_signer_issues_bare_users_and_refuses_limits():
    request = read_request(_request().encode(), None, xkey=None, now=int(time.time()))
    token = issue_user(
        request, Allow("X"), ISSUER, account_key=ISSUER.public_key, iat=1, scoped=True
    )
    user = jwt.decode(token)
    assert isinstance(user, jwt.UserClaims) and user.has_empty_permissions()
    limits = jwt.UserPermissionLimits()
    with pytest.raises(CalloutError, match="scoped signing key"):
        issue_user(request, Allow("X", limits), ISSUER, account_key=None, iat=1, scoped=True)
