"""The failures users hit in practice, each with its own error type and message."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from nscpy import resolver
from nscpy.errors import NscError
from tests.resolver.mint import World
from tests.resolver.servers import full_resolver
from tests.support.natsserver import free_port, nats_server

pytestmark = pytest.mark.e2e


def test_no_server_reachable_names_every_url() -> None:
    world = World.create("APP")
    user = resolver.temporary_system_user(world.sys.kp, world.sys.pub, int(time.time()))
    ports = [free_port(), free_port()]
    urls = [f"nats://127.0.0.1:{p}" for p in ports]
    opts = resolver.ConnectOptions(urls, user.jwt, user.seed, timeout=1)
    started = time.monotonic()
    with pytest.raises(resolver.NoServerReachable) as info:
        resolver.push_accounts(opts, world.all_account_jwts())
    assert time.monotonic() - started < 5
    assert str(info.value) == (
        f"no nats-server reachable at {urls[0]}: connection refused; {urls[1]}: connection refused"
    )
    assert isinstance(info.value, NscError)


def test_second_url_is_used_when_the_first_is_down(tmp_path: Path) -> None:
    world = World.create("APP")
    with nats_server(tmp_path, full_resolver(world, tmp_path / "jwt")) as srv:
        user = resolver.temporary_system_user(world.sys.kp, world.sys.pub, int(time.time()))
        urls = [f"nats://127.0.0.1:{free_port()}", srv.url]
        opts = resolver.ConnectOptions(urls, user.jwt, user.seed)
        resolver.push_accounts(opts, world.all_account_jwts(), timeout=0.5, expect=1).check()


def test_expired_system_user_is_refused(tmp_path: Path) -> None:
    world = World.create("APP")
    with nats_server(tmp_path, full_resolver(world, tmp_path / "jwt")) as srv:
        long_ago = int(time.time()) - 3600
        user = resolver.temporary_system_user(world.sys.kp, world.sys.pub, long_ago)
        opts = resolver.ConnectOptions([srv.url], user.jwt, user.seed)
        with pytest.raises(resolver.AuthorizationFailed) as info:
            resolver.list_accounts(opts, timeout=0.5)
        assert str(info.value) == (
            f"nats-server at {srv.url} refused the user: Authorization Violation "
            "(is the user's account known to the server and the JWT unexpired?)"
        )


def test_partial_replies_against_a_known_cluster_size(tmp_path: Path) -> None:
    world = World.create("APP")
    with nats_server(tmp_path, full_resolver(world, tmp_path / "jwt")) as srv:
        user = resolver.temporary_system_user(world.sys.kp, world.sys.pub, int(time.time()))
        opts = resolver.ConnectOptions([srv.url], user.jwt, user.seed)
        listed = resolver.list_accounts(opts, timeout=0.3, expect=3)
        with pytest.raises(
            resolver.PartialReplies, match="^1 of 3 servers replied to the account list request$"
        ):
            listed.check()
