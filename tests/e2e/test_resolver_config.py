"""Generated configs are accepted by a real nats-server and do what they say."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from nscpy import resolver
from nscpy.serverconfig import nats_resolver_config
from tests.resolver.mint import World
from tests.resolver.servers import mem_resolver
from tests.support.natsserver import nats_server

pytestmark = pytest.mark.e2e


def test_mem_resolver_config_serves_users_with_their_permissions(tmp_path: Path) -> None:
    world = World.create("APP", "OTHER")
    with nats_server(tmp_path, mem_resolver(world)) as srv:
        user = world.user(
            "APP", pub={"allow": ["orders.>", "_INBOX.>"]}, sub={"allow": ["orders.>"]}
        )

        async def scenario() -> list[str]:
            import nats

            errors: list[str] = []

            async def on_error(exc: Exception) -> None:
                errors.append(str(exc))

            opts = resolver.ConnectOptions([srv.url], user.jwt, user.seed)
            nc = await nats.connect(
                srv.url,
                user_jwt_cb=opts.jwt_callback(),
                signature_cb=opts.signature_callback(),
                allow_reconnect=False,
                error_cb=on_error,
            )
            sub = await nc.subscribe("orders.new")
            await nc.publish("orders.new", b"1")
            assert (await sub.next_msg(timeout=2)).data == b"1"
            await nc.publish("billing.invoice", b"x")
            await nc.flush()
            await asyncio.sleep(0.2)
            assert nc.is_connected
            await nc.close()
            return errors

        assert asyncio.run(scenario()) == [
            'nats: permissions violation for publish to "billing.invoice"'
        ]
        # Only SYS's own update subject answers on a memory resolver; CLAIMS.UPDATE has no
        # responder, which nscpy reports rather than waiting out the timeout.
        pusher = resolver.temporary_system_user(world.sys.kp, world.sys.pub, int(time.time()))
        opts = resolver.ConnectOptions([srv.url], pusher.jwt, pusher.seed)
        with pytest.raises(resolver.NoResponders, match="needs a full nats resolver"):
            resolver.push_accounts(opts, world.all_account_jwts(), timeout=0.5)


@pytest.mark.parametrize("cache", [False, True])
def test_nats_resolver_configs_start(tmp_path: Path, cache: bool) -> None:
    world = World.create()
    conf = nats_resolver_config(
        "OP",
        world.operator_jwt,
        "SYS",
        world.sys.pub,
        world.account_jwt(world.sys),
        cache=cache,
        dir=str(tmp_path / "jwt"),
    )
    with nats_server(tmp_path, conf) as srv:
        # The preloaded system account is stored in the resolver's directory at start-up.
        assert (tmp_path / "jwt" / f"{world.sys.pub}.jwt").exists()
        pusher = world.user("SYS")
        asyncio.run(_connect_and_close(resolver.ConnectOptions([srv.url], pusher.jwt, pusher.seed)))
        assert "Server is ready" in srv.log_text()


async def _connect_and_close(opts: resolver.ConnectOptions) -> None:
    nc = await resolver.connect(opts)
    await nc.close()
