"""The KV store on the bundled server_stub (single node), same commands.

Beyond streams and publishes the store needs batched direct gets (multi_last) or a consumer
with deliver_policy last_per_subject to list keys, and flow control (ordered consumers) to
watch; a stub without them makes this test skip, saying which one it lacked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kvstore.conftest import nscpy, ok, tree
from tests.support.natsserver import free_port, stop, wait_for_info

pytestmark = pytest.mark.e2e


@pytest.fixture
def stub_url(tmp_path: Path) -> Iterator[str]:
    """server_stub with JetStream as its own process (as a user runs it); KV_STUB_URL names
    one already running instead (to try another stub build: each test uses its own bucket)."""
    given = os.environ.get("KV_STUB_URL")
    if given:
        yield given
        return
    port = free_port()
    conf = tmp_path / "stub.conf"
    conf.write_text(f'listen: "127.0.0.1:{port}"\njetstream {{ store_dir: "{tmp_path / "js"}" }}\n')
    with open(tmp_path / "stub.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "server_stub", "-c", str(conf)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ},
            cwd=tmp_path,
        )
    try:
        wait_for_info(port, proc=proc)
        yield f"nats://127.0.0.1:{port}"
    finally:
        stop(proc)


def _unsupported(stderr: str) -> bool:
    return "server_stub does not support" in stderr or "is not supported by server_stub" in stderr


def test_the_store_works_on_server_stub(tmp_path: Path, stub_url: str) -> None:
    url = f"{stub_url}?bucket=nsc{os.getpid()}"
    home = tmp_path / "admin"
    ok(home, url, "add", "operator", "-n", "O")
    first = nscpy(home, url, "add", "account", "-n", "APP", retry_for=2)
    if first.returncode != 0 and _unsupported(first.stderr):
        pytest.skip(f"server_stub lacks what the KV store needs ({first.stderr.strip()})")
    assert first.returncode == 0, first.stderr
    ok(home, url, "add", "user", "-a", "APP", "-n", "u1")
    ok(home, url, "edit", "account", "-n", "APP", "--conns", "4")
    assert "u1" in ok(home, url, "list", "users", "-a", "APP")
    log = json.loads(ok(home, url, "log", "-a", "APP", "--json"))
    assert len(log) == 2
    old = ok(home, url, "describe", "account", "APP", "--revision", str(log[0]["revision"]),
             "-F", "nats.limits.conn")  # fmt: skip
    assert old.strip() == "-1"
    # a compare-and-set refusal on the stub, as on nats-server
    from nscpy.store.kvclient import KvClient, KvConflict
    from nscpy.store.kvkeys import parse_store_url

    client = KvClient(parse_store_url(url))
    try:
        key = "O.accounts.APP.APP=2Ejwt"
        with pytest.raises(KvConflict):
            client.put(key, b"x", last=log[0]["revision"], change="stale")
    finally:
        client.close()

    watcher = subprocess.Popen(
        [sys.executable, "-m", "nscpy", "-H", str(home), "--store", url]
        + ["store", "watch", "--json", "--count", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stderr is not None
        line = watcher.stderr.readline()
        assert line.startswith("watching the KV store"), line + watcher.stderr.read()
        ok(home, url, "add", "user", "-a", "APP", "-n", "u2")
        out, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()
    assert json.loads(out)["path"] == "O/accounts/APP/users/u2.jwt"

    back = tmp_path / "back"
    ok(home, url, "store", "migrate", "--from", url, "--to", str(back))
    assert sorted(tree(back)) == [
        "O/.nsc",
        "O/O.jwt",
        "O/accounts/APP/APP.jwt",
        "O/accounts/APP/users/u1.jwt",
        "O/accounts/APP/users/u2.jwt",
    ]
