"""`nscpy push` to one node of a three-node full-resolver cluster.

Each node runs the config `generate config --nats-resolver` printed (its own JWT directory).
One push reaches all three (three replies per account, a user works on every node); with a node
down, `--expect-servers 3` turns the missing reply into exit 1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands.cliutil import ok, run
from tests.support.cli_e2e import account_key, build_store, creds, roundtrip
from tests.support.cluster import nats_cluster, wait_until

pytestmark = pytest.mark.e2e


def test_push_to_one_node_reaches_the_cluster(tmp_path: Path) -> None:
    home = tmp_path / "home"
    h = ("-H", str(home))
    build_store(home)

    def node_config(i: int, node_dir: Path) -> str:
        return ok(*h, "generate", "config", "--nats-resolver", "--dir", str(node_dir / "jwt"))

    with nats_cluster(tmp_path / "cluster", 3, node_config) as nodes:
        u = ("-u", nodes[0].url)

        def three_resolvers() -> bool:
            code, _, _ = run(*h, "push", "--diff", *u, "--timeout", "0.3", "--expect-servers", "3")
            return code == 0

        wait_until(three_resolvers, 15.0, "three resolvers answering through node 0")

        out = ok(*h, "push", "-A", *u, "--timeout", "2", "--expect-servers", "3")
        app = account_key(home, "APP")
        app_lines = [line for line in out.splitlines() if line.startswith(f"[ OK ] APP ({app}): ")]
        assert len(app_lines) == 3 and all(line.endswith(": jwt updated") for line in app_lines)
        assert {line.split(": ")[1] for line in app_lines} == {"n0", "n1", "n2"}
        assert out.splitlines()[-1] == "[ OK ] pushed 2 accounts to a total of 3 nats-server"
        for i, node in enumerate(nodes):
            assert (tmp_path / "cluster" / f"node{i}" / "jwt" / f"{app}.jwt").exists()
            assert roundtrip(node.url, creds(home, "APP", "alice")) == b"hi"

        nodes[2].proc.terminate()
        nodes[2].proc.wait(timeout=10)

        def two_left() -> bool:
            code, out, _ = run(*h, "push", "--diff", *u, "--timeout", "0.3")
            return code == 0 and out.count(" accounts, ") == 2

        wait_until(two_left, 10.0, "node 2 gone from the cluster")
        code, out, err = run(*h, "push", "-a", "APP", *u, "--timeout", "0.5",
                             "--expect-servers", "3")  # fmt: skip
        assert code == 1
        assert out.count(": jwt updated") == 2
        assert err == (
            "[ERR ] pushed 1 account to a total of 2 nats-server\n"
            f"nscpy: error: 2 of 3 servers replied to the push of account {app}\n"
        )
