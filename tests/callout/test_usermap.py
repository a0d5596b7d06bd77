"""The --map authorizer: parsing (refuse what it does not know) and matching."""

from __future__ import annotations

import time

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from nscpy import jwt, keys
from nscpy.callout import Allow, Reject
from nscpy.callout.messages import AuthRequest
from nscpy.callout.usermap import UserMapError, parse_user_map

MAP = """
[[users]]
user = "alice"
password = "s3cret"
account = "ORDERS"
allow_pub = ["orders.>"]
deny_pub = ["orders.secret"]
allow_sub = ["_INBOX.>"]
expiry = "1h"
allow_responses = 2

[[users]]
token = "t0ken"
account = "BILLING"
name = "billing-bot"
"""


def _request(**connect: str) -> AuthRequest:
    claims = jwt.AuthorizationRequestClaims.new(keys.create_pair(keys.Prefix.ACCOUNT).public_key)
    for key, value in connect.items():
        setattr(claims.connect_opts, key, value)
    return AuthRequest(claims)


def test_user_password_match_gives_the_grant():
    decision = parse_user_map(MAP)(_request(user="alice", password="s3cret"))
    assert isinstance(decision, Allow)
    assert decision.account == "ORDERS"
    assert decision.limits is not None
    assert decision.limits.pub.allow == ["orders.>"]
    assert decision.limits.pub.deny == ["orders.secret"]
    assert decision.limits.sub.allow == ["_INBOX.>"]
    assert decision.limits.resp is not None and decision.limits.resp.max == 2
    assert abs(decision.expires - (time.time() + 3600)) < 5


def test_token_match_and_everyone_else_rejected():
    decision = parse_user_map(MAP)(_request(auth_token="t0ken"))
    assert isinstance(decision, Allow) and (decision.account, decision.name) == (
        "BILLING",
        "billing-bot",
    )
    for bad in (
        _request(user="alice", password="wrong"),
        _request(user="bob", password="s3cret"),
        _request(auth_token="nope"),
        _request(),
    ):
        assert isinstance(parse_user_map(MAP)(bad), Reject)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "needs at least one"),
        ("[[users]]\nuser='a'\npassword='b'\n", "account is required"),
        ("[[users]]\naccount='A'\n", "name a credential"),
        ("[[users]]\nuser='a'\naccount='A'\n", "needs a password"),
        ("[[users]]\ntoken='t'\naccount='A'\nexpiry='soon'\n", "expiry"),
        ("[[users]]\ntoken='t'\naccount='A'\nallow_pub='x'\n", "allow_pub must be a list"),
        ("[[users]]\ntoken='t'\naccount='A'\nhome='x'\n", "unknown key 'home'"),
        ("[server]\nx=1\n[[users]]\ntoken='t'\naccount='A'\n", "unknown top-level key"),
        ("users = [", "not valid TOML"),
    ],
)
def test_bad_maps_are_refused(text: str, message: str):
    with pytest.raises(UserMapError, match=message):
        parse_user_map(text)


_values = st.one_of(
    st.text(max_size=8), st.integers(), st.booleans(), st.lists(st.text(max_size=4), max_size=3)
)


@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(
                [
                    "user",
                    "password",
                    "token",
                    "account",
                    "allow_pub",
                    "expiry",
                    "allow_responses",
                    "x",
                ]
            ),
            _values,
            max_size=6,
        ),
        max_size=3,
    )
)
def test_any_table_parses_or_is_refused_cleanly(users):
    text = tomli_w.dumps({"users": users})
    try:
        parse_user_map(text)
    except UserMapError:
        pass
