"""nscpy.api on a KV store: the same calls, and a failed transaction undoes its KV writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from nscpy.api import AccountEdit, Store
from nscpy.jwt import decode
from tests.support.natsserver import RunningServer

pytestmark = pytest.mark.e2e


def test_api_transactions_on_a_kv_store_are_all_or_nothing(
    tmp_path: Path, js_server: RunningServer
) -> None:
    url = f"{js_server.url}?bucket=api"
    store = Store.open(home=tmp_path / "admin", store=url, store_options={"editor": "api"})
    store.add_operator("O")
    store.add_account("O", "APP")
    store.add_user("O", "APP", "alice")
    assert store.workspace.store.list_users("O", "APP") == ["alice"]
    kv = store.workspace.store.kv  # type: ignore[attr-defined]
    before = kv.history(">")

    with pytest.raises(RuntimeError, match="changed my mind"):
        with store.transaction():
            store.add_user("O", "APP", "bob")
            store.edit_account("O", "APP", AccountEdit(conns=5))
            store.add_account("O", "OTHER")
            raise RuntimeError("changed my mind")
    # every key is as it was (the undo writes are new revisions, the content is the old one)
    fresh = Store.open(home=tmp_path / "reader", store=url)
    assert fresh.workspace.store.list_users("O", "APP") == ["alice"]
    assert fresh.workspace.store.list_accounts("O") == sorted(["APP", "SYS"])
    assert decode(fresh.workspace.store.read_account("O", "APP")).limits.conn == -1
    current = {e.key: e.value for e in kv.entries(">")}
    assert current == {e.key: e.value for e in before if e.key in current}
    assert len(kv.history(">")) > len(before)  # the writes and their undoing are both in log

    with store.transaction():
        store.add_user("O", "APP", "carol")
    assert fresh.workspace.store.list_users("O", "APP") == ["alice", "carol"]

    report = store.migrate_store(url, str(tmp_path / "back"))
    assert report.operators == ["O"] and (tmp_path / "back" / "O" / ".nsc").is_file()
    assert sorted(
        p.stem for p in (tmp_path / "back" / "O" / "accounts" / "APP" / "users").iterdir()
    ) == [
        "alice",
        "carol",
    ]
