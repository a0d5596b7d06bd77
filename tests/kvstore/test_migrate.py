"""`store migrate`: directory -> KV -> directory is byte-identical."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.kvstore.conftest import nscpy, ok, plain, schema_fields, tree
from tests.support.natsserver import RunningServer

pytestmark = pytest.mark.e2e


def _directory_store(home: Path) -> Path:
    """Two operators, odd but legal names (spaces, dots, non-ASCII), users, an edited account."""
    plain(home, "add", "operator", "-n", "O", "--sys")
    plain(home, "add", "account", "-n", "APP")
    plain(home, "add", "user", "-a", "APP", "-n", "alice")
    plain(home, "add", "user", "-a", "APP", "-n", "bob.smith")
    plain(home, "add", "account", "-n", "Zürich team")
    plain(home, "add", "user", "-a", "Zürich team", "-n", "ünïcode user=1")
    plain(home, "edit", "account", "-n", "APP", "--conns", "5", "--tag", "t1")
    plain(home, "add", "operator", "-n", "second.op")
    plain(home, "add", "account", "-n", "X")  # the new operator is the current one
    plain(home, "env", "-o", "O")
    return home / "stores"


def test_directory_to_kv_to_directory_is_byte_identical(
    tmp_path: Path, js_server: RunningServer
) -> None:
    home = tmp_path / "home"
    # -H puts the stores beside keys/ and creds/; the data store is the operators' directories
    _directory_store(home)
    original = {k: v for k, v in tree(home).items() if k.startswith(("O/", "second.op/"))}
    assert len(original) >= 9
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for op in ("O", "second.op"):
        shutil.copytree(home / op, data_dir / op)
    url = f"{js_server.url}?bucket=migrated"

    there = json.loads(ok(home, url, "store", "migrate", "--from", str(data_dir), "--to", url,
                          "--json"))  # fmt: skip
    assert set(there) == schema_fields("store-migrate")
    assert there["operators"] == ["O", "second.op"] and there["files"] == len(original)
    # the KV store works as a store: same listing as the directory
    assert ok(home, url, "list", "accounts") == plain(home, "list", "accounts")
    assert "ünïcode user=1" in ok(home, url, "list", "users", "-a", "Zürich team")

    back = tmp_path / "back"
    ok(home, url, "store", "migrate", "--from", url, "--to", str(back))
    assert tree(back) == {k: v for k, v in original.items()}
    assert (back / "O" / "accounts").is_dir()

    # a second migration into the same bucket refuses before writing anything
    again = nscpy(home, url, "store", "migrate", "--from", str(data_dir), "--to", url)
    assert again.returncode == 1 and "already has operator 'O'" in again.stderr
    # and so does one into a directory that has the operator
    into = nscpy(home, url, "store", "migrate", "--from", url, "--to", str(back))
    assert into.returncode == 1 and "already exists" in into.stderr
    assert tree(back) == original
