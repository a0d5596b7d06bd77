"""Operator mode without sockets: OperatorAuth authenticates user JWTs, admits by account limits,
and applies pushed account JWTs and delete requests, on a Server that is never started (its
router and MessageBus work without a listener)."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from nscpy import jwt, keys
from server_stub.auth import ConnectionInfo
from server_stub.config import load
from server_stub.errors import AuthError
from server_stub.operator import ACCOUNT_CONNECTIONS, OperatorAuth
from server_stub.resolver import ClaimsError, ResolverService
from server_stub.server import Server

from .chain import Chain, allow

NONCE = "nonce-for-the-test"


def _signed(kp: keys.KeyPair) -> str:
    return base64.urlsafe_b64encode(kp.sign(NONCE.encode())).rstrip(b"=").decode()


def _info() -> ConnectionInfo:
    return ConnectionInfo("127.0.0.1", 5000, NONCE, time.time())


@pytest.fixture
def chain(tmp_path: Path) -> Chain:
    return Chain.create(tmp_path, "APP", "OTHER")


def attached(chain: Chain, **config: object) -> tuple[OperatorAuth, Server]:
    options = load(chain.config("op", **config))  # type: ignore[arg-type]
    assert isinstance(options.operator, OperatorAuth)
    server = Server(options)
    options.operator.attach(server)
    return options.operator, server


def test_attach_loads_the_system_account_and_serves_the_resolver(chain: Chain) -> None:
    auth, server = attached(chain)
    sys_account = chain.pub("SYS")
    assert sys_account in auth.loaded
    assert server.router.account(sys_account).is_system
    assert any(isinstance(s, ResolverService) for s in server.services)
    assert chain.pub("APP") not in auth.loaded  # loaded on its first user, like nats-server


def test_authenticate_binds_the_user_with_a_typed_grant(chain: Chain) -> None:
    chain.edits["APP"] = [lambda a: setattr(a.limits, "subs", 10)]
    auth, _ = attached(chain)

    def edit(u: jwt.UserClaims) -> None:
        u.pub = allow("orders.>")
        u.subs = 3

    user = chain.user("APP", edit)
    identity = auth.authenticate({"jwt": user.jwt, "sig": _signed(user.kp)}, _info())
    assert (identity.account, identity.public_key) == (chain.pub("APP"), user.public_key)
    assert identity.grant is not None
    assert identity.grant.max_subs == 3  # the smaller of the account's 10 and the user's 3
    assert identity.grant.permissions is identity.permissions
    assert identity.permissions is not None and identity.permissions.can_publish("orders.x")
    assert not identity.permissions.can_publish("billing.x")
    assert chain.pub("APP") in auth.loaded


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        ({}, "operator mode needs a user JWT"),
        ({"jwt": "not-a-jwt"}, "user JWT does not decode"),
    ],
)
def test_authenticate_refuses(chain: Chain, options: dict[str, str], reason: str) -> None:
    auth, _ = attached(chain)
    with pytest.raises(AuthError, match=reason):
        auth.authenticate(options, _info())


def test_authenticate_refuses_an_account_jwt_and_a_bad_signature(chain: Chain) -> None:
    auth, _ = attached(chain)
    with pytest.raises(AuthError, match="expected a user JWT"):
        auth.authenticate({"jwt": chain.account_jwt("APP")}, _info())
    user = chain.user("APP")
    other = keys.create_pair(keys.Prefix.USER)
    with pytest.raises(AuthError, match="signature"):
        auth.authenticate({"jwt": user.jwt, "sig": _signed(other)}, _info())


def test_authenticate_refuses_an_account_the_operator_did_not_sign(chain: Chain) -> None:
    auth, _ = attached(chain, preload=[])
    user = chain.user("APP")
    with pytest.raises(AuthError, match="unknown or not trusted"):
        auth.authenticate({"jwt": user.jwt, "sig": _signed(user.kp)}, _info())


def test_admit_refuses_past_the_accounts_connection_limit(chain: Chain) -> None:
    chain.edits["APP"] = [lambda a: setattr(a.limits, "conn", 2)]
    auth, server = attached(chain)
    user = chain.user("APP")
    identity = auth.authenticate({"jwt": user.jwt, "sig": _signed(user.kp)}, _info())
    account = server.router.account(identity.account)
    auth.admit(identity, account, 1)
    with pytest.raises(AuthError) as refused:
        auth.admit(identity, account, 2)
    assert refused.value.err == ACCOUNT_CONNECTIONS


def test_update_applies_a_pushed_account_jwt(chain: Chain) -> None:
    auth, server = attached(chain, resolver="full")
    app = chain.pub("APP")
    auth.account(app)
    changed: list[str] = []
    server.account_hooks.append(changed.append)
    token = chain.account_jwt("APP", lambda a: setattr(a.limits, "conn", 7))
    assert auth.update(token, app) == (app, "jwt updated")
    assert auth.loaded[app].limits.conn == 7
    assert server.router.account(app).max_conns == 7
    assert changed == [app]
    assert auth.store.get(app) == token


def test_update_refusals_are_worded_as_nats_server(chain: Chain) -> None:
    auth, _ = attached(chain, resolver="full")
    with pytest.raises(ClaimsError, match="not account claim"):
        auth.update(chain.user("APP").jwt, None)
    with pytest.raises(ClaimsError, match="subject does not match jwt content"):
        auth.update(chain.account_jwt("APP"), chain.pub("OTHER"))
    with pytest.raises(ClaimsError, match="expected 3 chunks"):
        auth.update("abc", None)


def test_delete_needs_a_trusted_issuer_and_spares_the_system_account(chain: Chain) -> None:
    auth, server = attached(chain, resolver="full")

    def request(signer: keys.KeyPair, *accounts: str) -> str:
        claims = jwt.GenericClaims.new(chain.operator.public_key)
        claims.data["accounts"] = list(accounts)
        return jwt.encode(claims, signer, iat=int(time.time()))

    stranger = keys.create_pair(keys.Prefix.OPERATOR)
    with pytest.raises(ClaimsError, match="not trusted"):
        auth.delete(request(stranger, chain.pub("APP")))
    with pytest.raises(ClaimsError, match="not allowed to delete system account"):
        auth.delete(request(chain.operator, chain.pub("SYS")))
    app = chain.pub("APP")
    auth.account(app)
    assert auth.delete(request(chain.operator, app)) == [app]
    assert app not in auth.loaded and auth.store.get(app) is None
    assert server.router.account(app).claims is None
