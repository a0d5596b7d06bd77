"""The stub's `authorization { auth_callout {} }` block: nats-server's keys, checks and texts."""

from __future__ import annotations

import pytest

from nscpy import keys
from server_stub.auth import ConnectionInfo
from server_stub.callout import CalloutNeeded, ConfigCalloutAuth, raw_auth_user
from server_stub.config import build
from server_stub.confparse import parse
from server_stub.errors import ConfigError

ISSUER = keys.create_pair(keys.Prefix.ACCOUNT).public_key
XKEY = keys.create_curve_pair().public_key
BASE = """
accounts {
  AUTH { users: [ { user: auth, password: pw } ] }
  APP { users: [ { user: bob, password: b } ] }
}
authorization { auth_callout { %s } }
"""


def _build(body: str):
    return build(parse(BASE % body))


def test_keys_and_aliases():
    opts = _build(
        f"issuer: {ISSUER}, users: [auth], acc: AUTH, key: {XKEY}, allowed_accounts: [APP]"
    )
    auth = opts.authorization
    assert isinstance(auth, ConfigCalloutAuth)
    cfg = auth.config
    assert (cfg.issuer, cfg.auth_users, cfg.account, cfg.xkey, cfg.allowed_accounts) == (
        ISSUER,
        ("auth",),
        "AUTH",
        XKEY,
        ("APP",),
    )
    assert _build(f"issuer: {ISSUER}, auth_users: [auth]").authorization.config.account == "$G"


@pytest.mark.parametrize(
    "body, message",
    [
        ("auth_users: [auth]", "Authorization callouts require an issuer to be specified"),
        ("issuer: <issuer>", "Authorization callouts require authorized users to be specified"),
        (
            "issuer: UABC, auth_users: [auth]",
            "Expected callout user to be a valid public account nkey",
        ),
        ("issuer: <issuer>, auth_users: [auth], xkey: <issuer>", "Expected callout xkey"),
        ("issuer: <issuer>, auth_users: auth", "Expected auth_users field to be an array"),
        ("issuer: <issuer>, auth_users: [auth], colour: red", "Unknown field 'colour'"),
    ],
)
def test_bad_blocks_are_refused(body: str, message: str):
    # <issuer> is filled in here, not in the parameters: ids must be the same in every process
    # (pytest -n collects in each worker and compares)
    with pytest.raises(ConfigError, match=message):
        _build(body.replace("<issuer>", ISSUER))


def _info() -> ConnectionInfo:
    return ConnectionInfo("127.0.0.1", 1, None, 0.0)


def test_who_is_delegated():
    auth = _build(f"issuer: {ISSUER}, auth_users: [auth], account: AUTH").authorization
    # the auth user bypasses; a wrong password for it is a plain refusal, not a callout
    assert auth.authenticate({"user": "auth", "pass": "pw"}, _info()).account == "AUTH"
    with pytest.raises(Exception) as caught:
        auth.authenticate({"user": "auth", "pass": "no"}, _info())
    assert not isinstance(caught.value, CalloutNeeded)
    # everyone else, even a valid config user, goes to the callout
    for opts in ({"user": "bob", "pass": "b"}, {"auth_token": "t"}, {}):
        with pytest.raises(CalloutNeeded) as need:
            auth.authenticate(opts, _info())
        assert need.value.account == "AUTH" and need.value.issuer == ISSUER
    # with allowed_accounts, a user bound to an account outside the list keeps its config login
    limited = _build(f"issuer: {ISSUER}, auth_users: [auth], allowed_accounts: [OTHER]")
    assert (
        limited.authorization.authenticate({"user": "bob", "pass": "b"}, _info()).account == "APP"
    )


def test_raw_auth_user_as_nats_server():
    assert raw_auth_user({"nkey": "UX", "user": "u"}) == "UX"
    assert raw_auth_user({"user": "u", "auth_token": "t"}) == "u"
    assert raw_auth_user({"jwt": "e", "auth_token": "t"}, "UKEY") == "UKEY"
    assert raw_auth_user({"auth_token": "t"}) == "[REDACTED]"
    assert raw_auth_user({}) == ""
