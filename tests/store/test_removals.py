"""Removals act on the directory they verified: a level swapped for a link to somewhere outside
the store after the check cannot make them delete there.

The swap is made deterministic, with no timing: a journal records each path just before the
store removes it (after the store has checked the directories on the way), and the journal
used here swaps the directory for a link at that moment. A removal that acts on a path instead
of a verified directory descriptor would then delete the file outside.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from nscpy import keys
from nscpy.store import DataStore, KeyStore, StorePaths, journal
from nscpy.store.errors import NotFound, UnsafePath


class _Swapper(journal.Journal):
    """On the first record of any path under `directory`, replace `directory` with a link to
    `outside` (the real one is moved aside, as an attacker would)."""

    def __init__(self, directory: Path, outside: Path) -> None:
        super().__init__()
        self.directory = directory
        self.outside = outside
        self.swapped = False

    def _swap(self, path: Path) -> None:
        if not self.swapped and path.is_relative_to(self.directory):
            self.swapped = True
            os.rename(self.directory, self.directory.with_name(self.directory.name + ".real"))
            self.directory.symlink_to(self.outside)

    def record(self, path: Path) -> bool:
        self._swap(path)
        return super().record(path)


def _outside_copy(tmp_path: Path, name: str, content: str) -> Path:
    """A directory outside the store with one file that must survive."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / name).write_text(content)
    return outside


def _run_swapped(swapper: _Swapper, remove: Callable[[], object]) -> None:
    with journal.activated(swapper):
        remove()
    assert swapper.swapped  # the swap did happen between the check and the removal


@pytest.fixture
def store(paths: StorePaths) -> tuple[DataStore, KeyStore]:
    ds = DataStore(paths)
    ds.create_operator("O", "op.jwt.text")
    ds.create_account("O", "A", "acct.jwt.text")
    ds.create_user("O", "A", "u", "user.jwt.text")
    return ds, KeyStore(paths)


def test_delete_user_unlinks_in_the_verified_directory(store, paths, tmp_path) -> None:
    ds, _ = store
    users = paths.users_dir("O", "A")
    outside = _outside_copy(tmp_path, "u.jwt", "not the store's")
    _run_swapped(_Swapper(users, outside), lambda: ds.delete_user("O", "A", "u"))
    assert (outside / "u.jwt").read_text() == "not the store's"
    assert not (users.with_name("users.real") / "u.jwt").exists()  # the store's file went


def test_seed_removal_unlinks_in_the_verified_shard(store, paths, tmp_path) -> None:
    _, ks = store
    pair = keys.create_pair(keys.Prefix.USER)
    ks.put(pair)
    shard = paths.key_path(pair.public_key).parent
    name = pair.public_key + ".nk"
    outside = _outside_copy(tmp_path, name, pair.seed)
    _run_swapped(_Swapper(shard, outside), lambda: ks.remove(pair.public_key))
    assert (outside / name).read_text() == pair.seed
    assert not (shard.with_name(shard.name + ".real") / name).exists()


def test_creds_removal_unlinks_in_the_verified_directory(store, paths, tmp_path) -> None:
    _, ks = store
    user = keys.create_pair(keys.Prefix.USER)
    creds = f"-----BEGIN USER NKEY SEED-----\n{user.seed}\n------END USER NKEY SEED------\n"
    ks.write_creds("O", "A", "u", creds)
    creds_dir = paths.creds_dir("O", "A")
    outside = _outside_copy(tmp_path, "u.creds", "not the store's")
    _run_swapped(_Swapper(creds_dir, outside), lambda: ks.remove_creds("O", "A", "u"))
    assert (outside / "u.creds").read_text() == "not the store's"


def test_delete_account_removes_the_verified_tree(store, paths, tmp_path) -> None:
    ds, _ = store
    accounts = paths.accounts_dir("O")
    outside = tmp_path / "outside"
    (outside / "A" / "users").mkdir(parents=True)
    (outside / "A" / "A.jwt").write_text("not the store's")
    (outside / "A" / "users" / "u.jwt").write_text("not the store's")
    _run_swapped(_Swapper(accounts, outside), lambda: ds.delete_account("O", "A"))
    assert (outside / "A" / "A.jwt").read_text() == "not the store's"
    assert (outside / "A" / "users" / "u.jwt").read_text() == "not the store's"
    assert os.listdir(accounts.with_name("accounts.real")) == []  # the store's tree went


@pytest.mark.parametrize("level", ["accounts", "account"])
def test_delete_account_through_a_link_is_refused(store, paths, tmp_path, level) -> None:
    ds, _ = store
    linked = paths.accounts_dir("O") if level == "accounts" else paths.account_dir("O", "A")
    outside = tmp_path / "outside"
    os.rename(linked, outside)
    linked.symlink_to(outside)
    with pytest.raises(UnsafePath):
        ds.delete_account("O", "A")
    assert any(outside.rglob("A.jwt"))  # nothing deleted where the link points


def test_removals_of_missing_things_say_so(store, paths) -> None:
    ds, ks = store
    assert ks.remove(keys.create_pair(keys.Prefix.USER).public_key) is False
    assert ks.remove_creds("O", "nope", "u") is False
    with pytest.raises(NotFound):
        ds.delete_user("O", "A", "nobody")


def test_batch_removal_unlinks_in_the_verified_directory(store, paths, tmp_path) -> None:
    # apply --prune and rotations remove users through a store batch
    ds, _ = store
    users = paths.users_dir("O", "A")
    outside = _outside_copy(tmp_path, "u.jwt", "not the store's")

    def remove() -> None:
        with ds.batch("O") as batch:
            batch.delete_user("A", "u")

    _run_swapped(_Swapper(users, outside), remove)
    assert (outside / "u.jwt").read_text() == "not the store's"
    assert not (users.with_name("users.real") / "u.jwt").exists()


def test_batch_removal_through_a_linked_directory_is_refused(store, paths, tmp_path) -> None:
    ds, _ = store
    users = paths.users_dir("O", "A")
    outside = tmp_path / "outside"
    os.rename(users, outside)
    users.symlink_to(outside)
    with pytest.raises(UnsafePath), ds.batch("O") as batch:
        batch.delete_user("A", "u")
    assert (outside / "u.jwt").read_text() == "user.jwt.text"
