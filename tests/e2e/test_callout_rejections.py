"""Auth callout responses that must not admit the client: nats-server and the stub agree.

A hand-made responder answers each request wrongly in one way (built with the same message
functions the service uses). The client always gets 'Authorization Violation'; the server logs
nats-server's reason, and the stub logs the same text.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest

from nscpy import jwt, keys
from nscpy.callout import CALLOUT_SUBJECT, Allow
from nscpy.callout.messages import AuthRequest, build_response, issue_user, read_request
from tests.e2e.callout_world import World
from tests.support.natsserver import nats_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

Responder = Callable[[World, AuthRequest], bytes | None]
OTHER_USER = keys.create_pair(keys.Prefix.USER)
OTHER_ACCOUNT = keys.create_pair(keys.Prefix.ACCOUNT)
OTHER_SERVER = keys.create_pair(keys.Prefix.SERVER)


def _respond(world: World, request: AuthRequest, **kw: Any) -> bytes:
    service = world.service_keys()
    return build_response(
        request,
        kw.pop("signer", service.issuer),
        xkey=world.xkey,
        iat=int(time.time()),
        issuer_account=service.issuer_account if service.operator_mode else "",
        **kw,
    )


def _user(world: World, request: AuthRequest, account: str = "ORDERS", **kw: Any) -> str:
    signer, account_key = world.service_keys().signer_for(account)
    return issue_user(
        request,
        Allow(account),
        kw.pop("signer", signer),
        account_key=kw.pop("account_key", account_key),
        iat=int(time.time()),
    )


def _error(world: World, request: AuthRequest) -> bytes:
    return _respond(world, request, error="no such user")


def _not_for_user(world: World, request: AuthRequest) -> bytes:
    user_jwt = _user(world, request)
    claims = jwt.AuthorizationResponseClaims.new(OTHER_USER.public_key)
    claims.audience, claims.jwt = request.server_id, user_jwt
    return jwt.encode(claims, world.service_keys().issuer, iat=int(time.time())).encode()


def _not_for_server(world: World, request: AuthRequest) -> bytes:
    claims = jwt.AuthorizationResponseClaims.new(request.user_nkey)
    claims.audience, claims.jwt = OTHER_SERVER.public_key, _user(world, request)
    return jwt.encode(claims, world.service_keys().issuer, iat=int(time.time())).encode()


def _user_for_other_key(world: World, request: AuthRequest) -> bytes:
    user = jwt.UserClaims.new(OTHER_USER.public_key)
    user.audience = "ORDERS"
    token = jwt.encode(user, world.service_keys().issuer, iat=int(time.time()))
    return _respond(world, request, user_jwt=token)


def _wrong_issuer(world: World, request: AuthRequest) -> bytes:
    token = _user(world, request, signer=OTHER_ACCOUNT)
    return _respond(world, request, user_jwt=token)


def _issuer_account_in_config_mode(world: World, request: AuthRequest) -> bytes:
    user = jwt.UserClaims.new(request.user_nkey)
    user.audience = "ORDERS"
    user.issuer_account = OTHER_ACCOUNT.public_key
    token = jwt.encode(user, world.service_keys().issuer, iat=int(time.time()))
    return _respond(world, request, user_jwt=token)


def _unknown_account(world: World, request: AuthRequest) -> bytes:
    return _respond(world, request, user_jwt=_user(world, request, account="NOPE"))


def _empty(world: World, request: AuthRequest) -> bytes:
    return b""


def _silence(world: World, request: AuthRequest) -> None:
    return None


def _unknown_signing_key(world: World, request: AuthRequest) -> bytes:
    return _respond(world, request, user_jwt=_user(world, request), signer=OTHER_ACCOUNT)


def _account_not_allowed(world: World, request: AuthRequest) -> bytes:
    chain = world.chain
    assert chain is not None
    token = _user(world, request, signer=chain.accounts["SYS"], account_key=chain.pub("SYS"))
    return _respond(world, request, user_jwt=token)


def _expected(world: World, case: str, request: AuthRequest) -> str:
    auth = "AUTH" if world.mode == "config" else world.chain.pub("AUTH")  # type: ignore[union-attr]
    return {
        "error": "Auth callout service returned an error: no such user",
        "not_for_user": "Auth callout violation: auth callout response is not for expected user",
        "not_for_server": "Auth callout violation: auth callout response is not for server",
        "user_for_other_key": f'Expected authorized user of "{request.user_nkey}" but got'
        f' "{OTHER_USER.public_key}" on account "{auth}"',
        "wrong_issuer": f'Wrong issuer for auth callout response on account "{auth}", expected'
        f' "{world.issuer.public_key}" got "{OTHER_ACCOUNT.public_key}"',
        "issuer_account": f'Error non operator mode account "{auth}": attempted to use'
        " issuer_account",
        "unknown_account": f'No valid account "NOPE" for auth callout response on account "{auth}"',
        "empty": f'Auth callout violation: "no reason supplied" on account "{auth}"',
        "silence": "",
        "unknown_signing_key": "Auth callout signing key is unknown",
        "account_not_allowed": f'Account "{world.chain.pub("SYS") if world.chain else ""}" not'
        f' permitted as valid account option for auth callout for account "{auth}"',
    }[case]


CASES: dict[str, tuple[str, Responder]] = {
    "error": ("config", _error),
    "not_for_user": ("config", _not_for_user),
    "not_for_server": ("config", _not_for_server),
    "user_for_other_key": ("config", _user_for_other_key),
    "wrong_issuer": ("config", _wrong_issuer),
    "issuer_account": ("config", _issuer_account_in_config_mode),
    "unknown_account": ("config", _unknown_account),
    "empty": ("config", _empty),
    "silence": ("config", _silence),
    "unknown_signing_key": ("operator", _unknown_signing_key),
    "account_not_allowed": ("operator", _account_not_allowed),
}


@contextlib.contextmanager
def _server(kind: str, world: World, tmp: Path) -> Iterator[tuple[str, Callable[[], str]]]:
    """(url, read the log) for either server."""
    conf = world.config()
    if world.mode == "config":  # a short auth timeout keeps the 'silence' case quick
        conf.write_text(
            conf.read_text().replace("  auth_callout {", "  timeout: 0.5\n  auth_callout {")
        )
    if kind == "nats-server":
        with nats_server(tmp / "real", conf.read_text()) as running:
            yield running.url, running.log_text
        return
    log = tmp / "stub.log"
    with open(log, "w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server_stub", "-p", "0", "-D", "-c", str(conf)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=conf.parent,
        )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        yield url, log.read_text
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


async def _attempt(world: World, url: str, responder: Responder) -> tuple[str, AuthRequest]:
    seen: list[AuthRequest] = []
    svc = await nats.connect(url, allow_reconnect=False, **world.service_options())

    async def on_request(msg: Any) -> None:
        request = read_request(msg.data, msg.headers, xkey=world.xkey, now=int(time.time()))
        seen.append(request)
        answer = responder(world, request)
        if answer is not None:
            await svc.publish(msg.reply, answer)

    await svc.subscribe(CALLOUT_SUBJECT, cb=on_request)
    await svc.flush()
    try:
        await nats.connect(url, **world.client_options(token="t0ken"))
    except nats.errors.Error as exc:
        return str(exc), seen[0]
    finally:
        await svc.close()
    raise AssertionError("the client was admitted")


@pytest.mark.parametrize("kind", ["nats-server", "stub"])
@pytest.mark.parametrize("case", list(CASES))
def test_bad_response_is_authorization_violation(tmp_path: Path, case: str, kind: str):
    mode, responder = CASES[case]
    world = World(mode, tmp_path)
    with _server(kind, world, tmp_path) as (url, read_log):
        error, request = asyncio.run(asyncio.wait_for(_attempt(world, url, responder), 20))
        expected = _expected(world, case, request)
        for _ in range(50):  # the log line is written as the client is closed
            if expected in read_log():
                break
            time.sleep(0.02)
        log = read_log()
    assert error == "nats: 'Authorization Violation'"
    assert expected in log, log[-2000:]
