"""KV failures: a node killed half-way, restarted and caught up; quorum lost: a clear error."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from nscpy.actions.edit_account import AccountEdit, edit_account
from nscpy.actions.workspace import Workspace
from nscpy.jwt import decode
from nscpy.store.kvclient import KvClient, KvUnavailable
from nscpy.store.kvkeys import parse_store_url
from tests.kvstore.conftest import nscpy, ok, restart, store_url
from tests.support.cluster import wait_until
from tests.support.natsserver import RunningServer

pytestmark = pytest.mark.e2e


def _monitor_port(server: RunningServer) -> int:
    found = re.search(r'http: "127\.0\.0\.1:(\d+)"', server.config.read_text())
    assert found is not None
    return int(found.group(1))


def _local_last_seq(server: RunningServer, bucket: str) -> int:
    """The last sequence of the bucket's stream in this node's own copy (its /jsz)."""
    url = f"http://127.0.0.1:{_monitor_port(server)}/jsz?streams=true"
    with urllib.request.urlopen(url, timeout=2) as resp:
        jsz = json.load(resp)
    for account in jsz.get("account_details", []):
        for stream in account.get("stream_detail", []):
            if stream["name"] == f"KV_{bucket}":
                return int(stream["state"]["last_seq"])
    return -1


def _kill(server: RunningServer) -> None:
    """SIGKILL: no leadership hand-over, no flush."""
    server.proc.kill()
    server.proc.wait()


def _tags(ws: Workspace) -> list[str]:
    return list(decode(ws.store.read_account("O", "APP")).tags)


def test_node_killed_writes_continue_restart_catches_up_quorum_loss_is_clear(
    tmp_path: Path, js_cluster: list[RunningServer]
) -> None:
    url = store_url(js_cluster)
    home = tmp_path / "admin"
    ok(home, url, "add", "operator", "-n", "O")
    ok(home, url, "add", "account", "-n", "APP")
    ws = Workspace.open(
        all_dirs=str(home), store=url, store_options={"timeout": 2, "retry_for": 40}
    )

    def edit(tag: str) -> None:
        edit_account(ws, AccountEdit(account="APP", operator="O", tags=[tag]))

    for i in range(5):
        edit(f"before-{i}")
    # kill the node this process is connected to (the first in the URL) half-way
    _kill(js_cluster[0])
    for i in range(5):
        edit(f"during-{i}")
    assert {f"during-{i}" for i in range(5)} <= set(_tags(ws))
    # a fresh CLI run works against the two survivors too
    ok(home, url, "edit", "account", "-n", "APP", "--tag", "cli-during")

    js_cluster[0] = restart(js_cluster[0])
    leader_seq = _local_last_seq(js_cluster[1], "nsc")
    wait_until(
        lambda: _local_last_seq(js_cluster[0], "nsc") == leader_seq, 30.0, "node 0 caught up"
    )
    edit("after-restart")

    # quorum lost: two of three nodes gone
    before = ws.store.read_account("O", "APP")
    history_before = json.loads(ok(home, url, "log", "--json"))
    _kill(js_cluster[1])
    _kill(js_cluster[2])
    failed = nscpy(home, url, "edit", "account", "-n", "APP", "--tag", "during-quorum-loss",
                   retry_for=4)  # fmt: skip
    assert failed.returncode == 1
    assert failed.stderr.startswith("nscpy: error: KV store nats://")
    assert "gave up after retrying" in failed.stderr and "Traceback" not in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1
    refused = nscpy(home, url, "add", "user", "-a", "APP", "-n", "nobody", retry_for=4)
    assert refused.returncode == 1 and "gave up after retrying" in refused.stderr
    # a change of several keys sent while quorum is lost (one atomic batch) is refused whole
    client = KvClient(parse_store_url(url), timeout=1, retry_for=2)
    try:
        with pytest.raises(KvUnavailable, match="gave up after retrying"):
            client.put_many([(f"O.cut.k{i}", b"v", None) for i in range(3)], "cut-change")
    finally:
        client.close()

    # quorum back: nothing of the failed changes was written
    js_cluster[1] = restart(js_cluster[1])
    js_cluster[2] = restart(js_cluster[2])
    wait_until(lambda: nscpy(home, url, "list", "accounts").returncode == 0, 60.0, "quorum")
    assert ws.store.read_account("O", "APP") == before
    assert json.loads(ok(home, url, "log", "--json")) == history_before
    assert "nobody" not in ok(home, url, "list", "users", "-a", "APP")
    assert [c for c in json.loads(ok(home, url, "log", "--json")) if "cut" in c["path"]] == []
