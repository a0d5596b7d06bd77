"""A full nats-resolver on one real server: push, list, live revocation, delete, pack, lookup."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from nscpy import keys, resolver
from tests.resolver.mint import World
from tests.resolver.servers import full_resolver
from tests.support.natsserver import RunningServer, nats_server

pytestmark = pytest.mark.e2e

WAIT = 0.5  # per request; one server answers in a few ms


def sys_opts(world: World, srv: RunningServer) -> resolver.ConnectOptions:
    """Connect as nscpy's temporary system user, signed by the SYS identity key."""
    user = resolver.temporary_system_user(world.sys.kp, world.sys.pub, int(time.time()))
    return resolver.ConnectOptions([srv.url], user.jwt, user.seed)


def delete_jwt(world: World, accounts: list[str]) -> str:
    return resolver.delete_request_jwt(world.operator, accounts, int(time.time()))


async def connect_user(world: World, srv: RunningServer, account: str, **perms):
    """A user of `account` connected with nats-py through nscpy's nonce-signing callbacks."""
    user = world.user(account, **perms)
    return await resolver.connect(resolver.ConnectOptions([srv.url], user.jwt, user.seed))


@pytest.fixture
def world() -> World:
    return World.create("APP", "OTHER")


@pytest.fixture
def server(tmp_path: Path, world: World):
    with nats_server(tmp_path, full_resolver(world, tmp_path / "jwt")) as srv:
        yield srv


def test_push_then_users_connect_and_list_shows_accounts(world, server, tmp_path) -> None:
    opts = sys_opts(world, server)
    with pytest.raises(resolver.AuthorizationFailed, match="Authorization Violation"):
        asyncio.run(connect_user(world, server, "APP"))

    jwts = world.all_account_jwts()
    report = resolver.push_accounts(opts, jwts, timeout=WAIT, expect=1)
    report.check()
    assert report.summary() == "pushed 2 accounts to a total of 1 nats-server"
    for push in report.accounts:
        assert [(r.code, r.message, r.account) for r in push.replies] == [
            (200, "jwt updated", push.account)
        ]
        assert (tmp_path / "jwt" / f"{push.account}.jwt").read_text() == jwts[push.account]

    async def use_app() -> None:
        nc = await connect_user(world, server, "APP")
        sub = await nc.subscribe("hello")
        await nc.publish("hello", b"world")
        assert (await sub.next_msg(timeout=2)).data == b"world"
        await nc.close()

    asyncio.run(use_app())
    listed = resolver.list_accounts(opts, timeout=WAIT, expect=1)
    listed.check()
    expected = sorted([*world.all_account_jwts(), world.sys.pub])
    assert listed.accounts == expected


def test_edited_account_push_disconnects_revoked_user_live(world, server) -> None:
    opts = sys_opts(world, server)
    resolver.push_accounts(opts, world.all_account_jwts(), timeout=WAIT, expect=1).check()
    app = world.accounts["APP"]

    async def scenario() -> str:
        closed = asyncio.Event()
        user = world.user("APP", "victim")
        uopts = resolver.ConnectOptions([server.url], user.jwt, user.seed)
        import nats

        async def on_closed() -> None:
            closed.set()

        async def on_error(exc: Exception) -> None:
            pass

        nc = await nats.connect(
            server.url,
            user_jwt_cb=uopts.jwt_callback(),
            signature_cb=uopts.signature_callback(),
            allow_reconnect=False,
            closed_cb=on_closed,
            error_cb=on_error,
        )
        await nc.flush()
        # The revocation covers every JWT of this user issued at or before now.
        app.revocations[user.kp.public_key] = int(time.time()) + 1
        report = await resolver.push_accounts_async(
            opts, {app.pub: world.account_jwt(app)}, timeout=WAIT, expect=1
        )
        report.check()
        await asyncio.wait_for(closed.wait(), 5)
        return str(nc.last_error)

    assert asyncio.run(scenario()) == "nats: user authentication revoked"


def test_pack_lookup_and_per_account_update(world, server) -> None:
    opts = sys_opts(world, server)
    jwts = world.all_account_jwts()
    # $SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE stores new accounts on a full resolver.
    report = resolver.push_accounts(opts, jwts, timeout=WAIT, expect=1, per_account_subject=True)
    report.check()
    assert {r.message for a in report.accounts for r in a.replies} == {"jwt updated"}

    packed = resolver.pack(opts, timeout=2)
    assert set(packed) == {*jwts, world.sys.pub}
    for pub, token in jwts.items():
        assert packed[pub] == token
        assert resolver.lookup(opts, pub, timeout=WAIT) == token
    stranger = World.create("X").accounts["X"].pub
    assert resolver.lookup(opts, stranger, timeout=WAIT) is None


def test_delete_with_allow_delete(world, server, tmp_path) -> None:
    opts = sys_opts(world, server)
    jwts = world.all_account_jwts()
    resolver.push_accounts(opts, jwts, timeout=WAIT, expect=1).check()
    other = world.accounts["OTHER"].pub

    report = resolver.delete_accounts(opts, delete_jwt(world, [other]), timeout=WAIT, expect=1)
    report.check()
    assert [r.message for r in report.replies] == ["deleted 1 accounts"]
    assert other not in resolver.list_accounts(opts, timeout=WAIT, expect=1).accounts
    assert (tmp_path / "jwt" / f"{other}.jwt.deleted").exists()
    assert resolver.lookup(opts, other, timeout=WAIT) is None


def test_delete_refused_without_allow_delete(world, tmp_path) -> None:
    conf = full_resolver(world, tmp_path / "jwt", allow_delete=False)
    with nats_server(tmp_path, conf) as srv:
        opts = sys_opts(world, srv)
        resolver.push_accounts(opts, world.all_account_jwts(), timeout=WAIT, expect=1).check()
        report = resolver.delete_accounts(
            opts, delete_jwt(world, [world.accounts["APP"].pub]), timeout=WAIT
        )
        with pytest.raises(resolver.ServerRefused, match="refused the delete request: '.*delete"):
            report.check()


def test_server_refuses_bad_jwt_and_the_error_quotes_it(world, server) -> None:
    opts = sys_opts(world, server)
    app = world.accounts["APP"].pub
    report = resolver.push_accounts(opts, {app: "not-a-jwt"}, timeout=WAIT, expect=1)
    assert not report.ok
    with pytest.raises(resolver.ServerRefused) as info:
        report.check()
    assert str(info.value) == (
        f"nats-server {report.servers[0]} refused account {app}: "
        "'jwt update resulted in error - expected 3 chunks'"
    )
    # A user JWT is not an account claim.
    user = world.user("APP")
    report = resolver.push_accounts(opts, {app: user.jwt}, timeout=WAIT, expect=1)
    with pytest.raises(resolver.ServerRefused, match="not account claim"):
        report.check()


def test_non_system_user_gets_no_responders(world, server) -> None:
    opts = sys_opts(world, server)
    resolver.push_accounts(opts, world.all_account_jwts(), timeout=WAIT, expect=1).check()
    user = world.user("APP")
    app_opts = resolver.ConnectOptions([server.url], user.jwt, user.seed)
    with pytest.raises(resolver.NoResponders, match=r"nothing answers on \$SYS.REQ.CLAIMS.UPDATE"):
        resolver.push_accounts(app_opts, world.all_account_jwts(), timeout=WAIT, expect=1)


def test_temporary_user_signed_by_a_sys_signing_key(tmp_path) -> None:
    world = World.create("APP")
    signing = keys.create_pair(keys.Prefix.ACCOUNT)
    world.sys.signing_keys.append(signing.public_key)
    with nats_server(tmp_path, full_resolver(world, tmp_path / "jwt")) as srv:
        user = resolver.temporary_system_user(signing, world.sys.pub, int(time.time()))
        opts = resolver.ConnectOptions([srv.url], user.jwt, user.seed)
        resolver.push_accounts(opts, world.all_account_jwts(), timeout=WAIT, expect=1).check()

        async def outside_its_permissions() -> str:
            import nats

            errors: list[Exception] = []

            async def on_error(exc: Exception) -> None:
                errors.append(exc)

            nc = await nats.connect(
                srv.url,
                user_jwt_cb=opts.jwt_callback(),
                signature_cb=opts.signature_callback(),
                allow_reconnect=False,
                error_cb=on_error,
            )
            await nc.publish("$SYS.REQ.SERVER.PING", b"")
            await nc.flush()
            await asyncio.sleep(0.2)
            await nc.close()
            return str(errors[0]) if errors else ""

        assert asyncio.run(outside_its_permissions()) == (
            'nats: permissions violation for publish to "$sys.req.server.ping"'
        )
