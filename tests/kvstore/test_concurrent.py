"""Two machines x 8 writers on an R3 KV bucket of a three-node cluster lose nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from nscpy.actions.workspace import Workspace
from nscpy.jwt import AccountClaims, UserClaims, ValidationResults, decode
from nscpy.jwt.chain import validate_user_against_account
from tests.kvstore.conftest import ok, store_url
from tests.support.natsserver import RunningServer

pytestmark = pytest.mark.e2e

WRITERS = 8


def _replicas(url: str, stream: str) -> tuple[int, int]:
    """(configured replicas, current followers) of a stream."""
    import asyncio

    import nats

    async def ask() -> tuple[int, int]:
        nc = await nats.connect(url)
        try:
            info = await nc.jetstream().stream_info(stream)
            followers = [r for r in (info.cluster.replicas or []) if r.current]
            return int(info.config.num_replicas or 0), len(followers)
        finally:
            await nc.close()

    return asyncio.run(ask())


ROUNDS = 3


def test_two_machines_eight_writers_each_lose_no_edit(
    tmp_path: Path, js_cluster: list[RunningServer]
) -> None:
    url_a = store_url(js_cluster, first=0)  # machine A talks to node 0 first,
    url_b = store_url(js_cluster, first=2)  # machine B to node 2
    home_a, home_b = tmp_path / "machine-a", tmp_path / "machine-b"
    ok(home_a, url_a, "add", "operator", "-n", "O", "--sys")
    ok(home_a, url_a, "add", "account", "-n", "SHARED")
    # B is another admin with the operator's and the account's seeds in its own keystore
    shutil.copytree(home_a / "keys", home_b / "keys")
    assert ok(home_b, url_b, "list", "accounts").count("SHARED") == 1

    def run_machines(writers: int, rounds: int) -> list[dict[str, Any]]:
        machines = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.kvstore.machine", str(home), url, name]
                + [str(writers), str(rounds)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "NSCPY_EDITOR": home.name, "NSCPY_STORE_TIMEOUT": "5"},
            )
            for home, url, name in ((home_a, url_a, "a"), (home_b, url_b, "b"))
        ]
        results = []
        for proc in machines:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            results.append(json.loads(out))
        for result in results:
            assert result["errors"] == [] and result["alive"] == 0
        return results

    run_machines(WRITERS, ROUNDS)  # both at once, 8 writer threads each
    results = run_machines(0, 0)  # then each machine reads the store back

    expected_users = sorted(
        f"{m}-w{w}-u{r}" for m in "ab" for w in range(WRITERS) for r in range(ROUNDS)
    )
    expected_tags = {f"{m}-w{w}-e{r}" for m in "ab" for w in range(WRITERS) for r in range(ROUNDS)}
    # both machines see the same store: the same users and byte-identical account JWTs
    assert results[0]["users"] == results[1]["users"] == expected_users
    assert results[0]["account"] == results[1]["account"]

    account = decode(results[0]["account"])
    assert isinstance(account, AccountClaims)
    assert expected_tags <= set(account.tags), "an edit was lost"
    assert 100 <= account.limits.conn < 100 + WRITERS
    ws = Workspace.open(all_dirs=str(home_a), store=url_a)
    op = decode(ws.store.read_operator("O"))
    assert account.issuer == op.subject
    for name in expected_users:
        user = decode(ws.store.read_user("O", "SHARED", name))  # verifies the signature
        assert isinstance(user, UserClaims) and user.name == name
        results_ = ValidationResults()
        validate_user_against_account(user, account, results_)
        assert not results_.is_blocking(True), name
    # each machine kept its own users' seeds locally; none went to the other
    for home, mine in ((home_a, "a"), (home_b, "b")):
        creds = sorted(p.stem for p in (home / "creds" / "O" / "SHARED").glob("*.creds"))
        assert creds == [u for u in expected_users if u.startswith(mine)]
    # the bucket is replicated on all three nodes
    assert _replicas(js_cluster[1].url, "KV_nsc") == (3, 2)
    # and the history names both editors
    log = json.loads(ok(home_a, url_a, "log", "-a", "SHARED", "--json"))
    assert {c["editor"] for c in log} >= {"machine-a", "machine-b"}


def test_a_process_lists_what_it_just_wrote(
    tmp_path: Path, js_cluster: list[RunningServer]
) -> None:
    """Listings are direct gets any replica may answer; one that lacks this process's last
    write is not used (the leader's copy is read instead)."""
    url = store_url(js_cluster, first=1)
    home = tmp_path / "admin"
    ok(home, url, "add", "operator", "-n", "O")
    ok(home, url, "add", "account", "-n", "APP")
    ws = Workspace.open(all_dirs=str(home), store=url)
    for i in range(30):
        ws.store.create_user("O", "APP", f"u{i}", "not-a-jwt-but-text")
        assert f"u{i}" in ws.store.list_users("O", "APP")
        ws.store.delete_user("O", "APP", f"u{i}")
        assert f"u{i}" not in ws.store.list_users("O", "APP")
