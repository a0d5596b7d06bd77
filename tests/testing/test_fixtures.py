"""The plugin's fixtures, used in this suite as any project would (the entry point loads it)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from nscpy import keys
from nscpy.api import UsageProblem
from nscpy.jwt import UserClaims, decode
from nscpy.jwt.creds import parse_decorated_jwt
from nscpy.testing import NatsAccount, NatsOperator, NatsServer, NatsUser


def test_operator_store(nats_operator: NatsOperator) -> None:
    assert nats_operator.store.operators() == ["TEST"]
    assert nats_operator.store.accounts("TEST") == ["SYS"]
    claims = nats_operator.store.operator("TEST")
    assert claims.system_account == nats_operator.system_account.public_key
    assert keys.from_seed(nats_operator.seed).public_key == nats_operator.public_key
    assert nats_operator.system_user.creds_path.is_file()


def test_users_carry_creds_jwt_key_and_seed(
    nats_account: Callable[..., NatsAccount], nats_user: Callable[..., NatsUser]
) -> None:
    shop = nats_account("SHOP", conns=5, jetstream=True)
    clerk = nats_user(
        shop, "clerk", allow_pub="orders.>", deny_sub=["x", "y"], expiry=2_000_000_000
    )
    claims = decode(clerk.jwt)
    assert isinstance(claims, UserClaims)
    assert (claims.subject, claims.issuer) == (clerk.public_key, shop.public_key)
    assert (claims.pub.allow, claims.sub.deny, claims.expires) == (
        ["orders.>"],
        ["x", "y"],
        2_000_000_000,
    )
    assert parse_decorated_jwt(clerk.creds_path.read_text()) == clerk.jwt
    assert keys.from_seed(clerk.seed).public_key == clerk.public_key
    assert clerk.seed not in repr(clerk)
    limits = shop.operator.store.account("TEST", "SHOP").limits
    assert (limits.conn, limits.jetstream.disk_storage) == (5, -1)


def test_unknown_options_are_refused(
    nats_account: Callable[..., NatsAccount], nats_user: Callable[..., NatsUser]
) -> None:
    with pytest.raises(UsageProblem, match="unknown account setting connections"):
        nats_account("A", connections=1)
    acct = nats_account("B")
    with pytest.raises(UsageProblem, match="unknown user option allow_publish"):
        nats_user(acct, "u", allow_publish="x")


@pytest.mark.e2e
def test_accounts_made_or_edited_after_start_are_pushed(
    nats_server: NatsServer,
    nats_operator: NatsOperator,
    nats_account: Callable[..., NatsAccount],
    nats_connect: Any,
) -> None:
    late = nats_account("LATE")
    before = late.jwt
    late.edit(conns=3)
    assert late.jwt != before

    async def lookup() -> str:
        nc = await nats_connect(nats_operator.system_user)
        reply = await nc.request(
            f"$SYS.REQ.ACCOUNT.{late.public_key}.CLAIMS.LOOKUP", b"", timeout=5
        )
        return reply.data.decode()

    assert asyncio.run(asyncio.wait_for(lookup(), 30)) == late.jwt


@pytest.mark.e2e
def test_clients_left_open_are_closed(
    nats_server: NatsServer, nats_operator: NatsOperator, nats_connect: Any
) -> None:
    clients: list[Any] = []

    async def leave_open() -> None:
        clients.append(await nats_connect(nats_operator.system_user))

    asyncio.run(leave_open())
    assert clients[0].is_closed  # closed when asyncio.run finalised the loop


@pytest.mark.e2e
@pytest.mark.asyncio
async def test_async_tests_create_accounts_and_connect(
    nats_server: NatsServer,
    nats_account: Callable[..., NatsAccount],
    nats_user: Callable[..., NatsUser],
    nats_connect: Any,
) -> None:
    # making an account pushes it; inside a running loop the push runs in a helper thread
    worker = nats_user(nats_account("ASYNC"), "worker", allow_pubsub="jobs.>")
    nc = await nats_connect(worker)
    sub = await nc.subscribe("jobs.>")
    await nc.publish("jobs.1", b"x")
    assert (await sub.next_msg(timeout=5)).data == b"x"
