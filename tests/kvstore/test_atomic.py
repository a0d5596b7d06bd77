"""One change of several keys is one atomic batch: all of it is stored, or none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nscpy.actions.workspace import Workspace
from nscpy.store.kvclient import KvClient, KvConflict
from nscpy.store.kvkeys import contains_seed, parse_store_url
from tests.kvstore.conftest import ok
from tests.support.natsserver import RunningServer

pytestmark = pytest.mark.e2e


def test_multi_key_changes_are_one_batch_and_a_failed_check_refuses_all(
    tmp_path: Path, js_server: RunningServer
) -> None:
    url = f"{js_server.url}?bucket=atomic"
    home = tmp_path / "admin"
    ok(home, url, "add", "operator", "-n", "O")
    ok(home, url, "add", "account", "-n", "APP")
    for name in ("u1", "u2", "u3"):
        ok(home, url, "add", "user", "-a", "APP", "-n", name)

    # reissuing the operator re-signs the operator and every account JWT: one change
    ok(home, url, "reissue", "operator", "-n", "O")
    log = json.loads(ok(home, url, "log", "--json"))
    last = [c for c in log if c["change"] == log[-1]["change"]]
    assert sorted(c["path"] for c in last) == ["O/O.jwt", "O/accounts/APP/APP.jwt"]
    assert [c["revision"] for c in last] == [log[-2]["revision"], log[-1]["revision"]]

    # the store's delete_account removes the account and its users in one change
    ws = Workspace.open(all_dirs=str(home), store=url)
    ws.store.delete_account("O", "APP")
    log = json.loads(ok(home, url, "log", "--json"))
    deletes = [c for c in log if c["change"] == log[-1]["change"]]
    assert all(c["operation"] == "DEL" for c in deletes)
    assert sorted(c["path"] for c in deletes) == [
        "O/accounts/APP/APP.jwt",
        "O/accounts/APP/users/u1.jwt",
        "O/accounts/APP/users/u2.jwt",
        "O/accounts/APP/users/u3.jwt",
    ]
    assert ok(home, url, "list", "accounts").count("APP") == 0

    # a batch whose last write fails its compare-and-set stores none of its writes
    client = KvClient(parse_store_url(url))
    try:
        # the reissue staged the new operator seed in the same batch: it stayed local
        assert not any(contains_seed(e.value) for e in client.history(">"))
        before = client.history(">")
        with pytest.raises(KvConflict):
            client.put_many(
                [("x.one", b"1", 0), ("x.two", b"2", 0), ("O.=2Ensc", b"{}", 1)], "doomed"
            )
        assert client.history(">") == before
        assert client.get("x.one") is None
    finally:
        client.close()


def test_apply_on_a_kv_store_is_one_change_and_dry_run_writes_nothing(
    tmp_path: Path, js_server: RunningServer
) -> None:
    url = f"{js_server.url}?bucket=applied"
    home = tmp_path / "admin"
    ok(home, url, "init", "-n", "ACME")
    spec = tmp_path / "spec.toml"
    spec.write_text(
        ok(home, url, "export", "spec")
        + "\n[accounts.NEW]\n[accounts.NEW.users.bob]\n[accounts.NEW.users.carol]\n"
    )
    before = json.loads(ok(home, url, "log", "--json"))
    ok(home, url, "apply", "--dry-run", str(spec))
    assert json.loads(ok(home, url, "log", "--json")) == before
    ok(home, url, "apply", str(spec))
    after = json.loads(ok(home, url, "log", "--json"))[len(before) :]
    assert sorted(c["path"] for c in after) == [
        "ACME/accounts/NEW/NEW.jwt",
        "ACME/accounts/NEW/users/bob.jwt",
        "ACME/accounts/NEW/users/carol.jwt",
    ]
    assert len({c["change"] for c in after}) == 1
    # the seeds and creds it made are local files, not keys
    assert list((home / "creds" / "ACME" / "NEW").glob("*.creds"))
    assert not (home / "ACME").exists()


def test_a_rotation_record_lives_in_the_shared_store(
    tmp_path: Path, js_server: RunningServer
) -> None:
    """A signing-key rotation started on one machine is seen in progress on another."""
    import shutil

    url = f"{js_server.url}?bucket=rotating"
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    ok(alice, url, "add", "operator", "-n", "O")
    ok(alice, url, "add", "account", "-n", "APP")
    made = json.loads(ok(alice, url, "generate", "nkey", "--account", "--store", "--json"))
    ok(alice, url, "edit", "account", "-n", "APP", "--sk", made["public_key"])
    ok(alice, url, "rotate", "signing-key", "start", "-a", "APP", "--key", made["public_key"])
    assert any(c["path"] == "O/.rotations/accounts/APP.json"
               for c in json.loads(ok(alice, url, "log", "--json")))  # fmt: skip
    shutil.copytree(alice / "keys", bob / "keys")
    again = ok(bob, url, "rotate", "signing-key", "start", "-a", "APP", "--key", made["public_key"])
    assert "(started)" in again and "added" not in again  # resumed from the shared record
