"""History (`log`, `describe --revision`) and `store watch` on a KV store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kvstore.conftest import nscpy, ok, schema_fields
from tests.support.natsserver import RunningServer

pytestmark = pytest.mark.e2e


def test_log_names_editor_and_time_and_describe_shows_old_revisions(
    tmp_path: Path, js_server: RunningServer
) -> None:
    url = f"{js_server.url}?bucket=hist"
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    ok(alice, url, "add", "operator", "-n", "O")
    ok(alice, url, "add", "account", "-n", "APP")
    import shutil

    shutil.copytree(alice / "keys", bob / "keys")
    assert nscpy(alice, url, "edit", "account", "-n", "APP", "--conns", "5").returncode == 0
    assert nscpy(bob, url, "edit", "account", "-n", "APP", "--conns", "7").returncode == 0

    log = json.loads(ok(alice, url, "log", "-a", "APP", "--json"))
    assert [c["editor"] for c in log] == ["alice", "alice", "bob"]
    assert all(set(c) == schema_fields("store-watch", "change") for c in log)
    assert all(c["path"] == "O/accounts/APP/APP.jwt" and c["operation"] == "PUT" for c in log)
    assert all(c["time"].endswith("Z") for c in log)
    revisions = [c["revision"] for c in log]
    assert revisions == sorted(revisions)
    text = ok(alice, url, "log")  # the whole operator, one line per change
    assert "O/.nsc" in text and "by bob" in text

    conns = [
        ok(alice, url, "describe", "account", "APP", "--revision", str(r), "-F", "nats.limits.conn")
        for r in revisions
    ]
    assert [c.strip() for c in conns] == ["-1", "5", "7"]
    assert ok(alice, url, "describe", "account", "APP", "-F", "nats.limits.conn").strip() == "7"
    # NSCPY_STORE instead of --store works the same (describe has a click-free fast path)
    done = subprocess.run(
        [sys.executable, "-m", "nscpy", "-H", str(alice), "describe", "account", "APP",
         "-F", "nats.limits.conn"],
        capture_output=True,
        text=True,
        env={**os.environ, "NSCPY_STORE": url},
        check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout.strip()) == (0, "7"), done.stderr
    wrong = nscpy(alice, url, "describe", "account", "APP", "--revision", "1")
    assert wrong.returncode == 1 and "not a kept revision of O/accounts/APP/APP.jwt" in wrong.stderr


def test_watch_prints_each_change_as_it_happens(tmp_path: Path, js_server: RunningServer) -> None:
    url = f"{js_server.url}?bucket=watched"
    home = tmp_path / "admin"
    ok(home, url, "add", "operator", "-n", "O")
    watcher = subprocess.Popen(
        [sys.executable, "-m", "nscpy", "-H", str(home), "--store", url]
        + ["store", "watch", "--json", "--count", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NSCPY_STORE_TIMEOUT": "2"},
    )
    try:
        assert watcher.stderr is not None
        assert watcher.stderr.readline().startswith("watching the KV store")
        ok(home, url, "add", "account", "-n", "APP")
        ok(home, url, "add", "user", "-a", "APP", "-n", "u")
        ok(home, url, "delete", "user", "-a", "APP", "-n", "u")
        out, err = watcher.communicate(timeout=30)
    finally:
        watcher.kill()
    assert watcher.returncode == 0, err
    changes = [json.loads(line) for line in out.splitlines()]
    assert all(set(c) == schema_fields("store-watch", "change") for c in changes)
    assert [(c["operation"], c["path"]) for c in changes] == [
        ("PUT", "O/accounts/APP/APP.jwt"),
        ("PUT", "O/accounts/APP/users/u.jwt"),
        ("DEL", "O/accounts/APP/users/u.jwt"),
    ]
    assert {c["editor"] for c in changes} == {"admin"}
