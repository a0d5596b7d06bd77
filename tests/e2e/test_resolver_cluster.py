"""A three-node cluster on loopback, each node a full resolver with its own directory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from nscpy import resolver
from tests.resolver.mint import World
from tests.resolver.servers import full_resolver
from tests.support.cluster import nats_cluster, wait_until

pytestmark = pytest.mark.e2e


def test_push_to_one_node_reaches_all_and_partial_replies(tmp_path: Path) -> None:
    world = World.create("APP")
    with nats_cluster(tmp_path, 3, lambda i, d: full_resolver(world, d / "jwt")) as nodes:
        pusher = world.user("SYS", "pusher")
        opts = resolver.ConnectOptions([nodes[0].url], pusher.jwt, pusher.seed)

        # Routes are up; wait until every node's resolver also answers through node 0.
        def all_listening() -> bool:
            return len(resolver.list_accounts(opts, timeout=0.3, expect=3).replies) == 3

        wait_until(all_listening, 15.0, "three resolvers answering")

        report = resolver.push_accounts(opts, world.all_account_jwts(), timeout=1.0, expect=3)
        report.check()
        assert report.summary() == "pushed 1 account to a total of 3 nats-server"
        assert report.servers == ["n0", "n1", "n2"]
        assert [r.message for r in report.accounts[0].replies] == ["jwt updated"] * 3

        async def user_on_each_node() -> list[bytes]:
            answers = []
            for node in nodes:
                user = world.user("APP")
                uopts = resolver.ConnectOptions([node.url], user.jwt, user.seed)
                nc = await resolver.connect(uopts)
                sub = await nc.subscribe("ping")
                await nc.publish("ping", node.url.encode())
                answers.append((await sub.next_msg(timeout=2)).data)
                await nc.close()
            return answers

        assert asyncio.run(user_on_each_node()) == [n.url.encode() for n in nodes]

        # A node that is down shows up as a partial reply, named in the error.
        nodes[2].proc.terminate()
        nodes[2].proc.wait(timeout=10)

        def two_left() -> bool:
            return len(resolver.list_accounts(opts, timeout=0.3).replies) == 2

        wait_until(two_left, 10.0, "node 2 gone from the cluster")
        report = resolver.push_accounts(opts, world.all_account_jwts(), timeout=0.5, expect=3)
        with pytest.raises(resolver.PartialReplies) as info:
            report.check()
        account = world.accounts["APP"].pub
        assert str(info.value) == f"2 of 3 servers replied to the push of account {account}"
