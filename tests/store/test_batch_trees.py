"""Batch: a directory that does not exist yet is built whole and renamed into place once."""

from __future__ import annotations

import os

import pytest

from nscpy.store import batch as batch_mod
from nscpy.store.batch import Batch

pytestmark = pytest.mark.skipif(not batch_mod.has_syncfs(), reason="needs syncfs(2)")


def _names(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_new_tree_appears_whole_with_modes_and_no_leftovers(tmp_path):
    (tmp_path / "old").mkdir()
    with Batch() as b:
        for i in range(50):
            b.write(tmp_path / "new" / "users" / f"u{i}.jwt", f"jwt{i}")
            b.write(tmp_path / "old" / f"o{i}", b"x", mode=0o600)
    assert sorted(os.listdir(tmp_path)) == ["new", "old"]
    users = tmp_path / "new" / "users"
    assert len(os.listdir(users)) == 50 and (users / "u7.jwt").read_text() == "jwt7"
    assert oct((tmp_path / "new").stat().st_mode & 0o777) == "0o700"
    assert oct((users / "u7.jwt").stat().st_mode & 0o777) == "0o600"
    assert not [n for n in _names(tmp_path) if ".tmp-" in n]


def test_failure_while_writing_leaves_no_tree(tmp_path, monkeypatch):
    real_open = os.open
    calls = {"n": 0}

    def failing_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT:
            calls["n"] += 1
            if calls["n"] == 40:
                raise OSError(28, "No space left on device")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(batch_mod.os, "open", failing_open)
    b = Batch()
    for i in range(60):
        b.write(tmp_path / "new" / f"f{i}", b"x")
    with pytest.raises(OSError, match="No space left"):
        b.commit()
    assert os.listdir(tmp_path) == []


def test_directory_made_meanwhile_gets_files_moved_in(tmp_path, monkeypatch):
    real = batch_mod._syncfs
    target = tmp_path / "shard"

    def racing_syncfs(paths):
        # another writer creates the directory and one of our exclusive files first
        if not target.exists():
            target.mkdir()
            (target / "k3").write_bytes(b"theirs")
        return real(paths)

    monkeypatch.setattr(batch_mod, "_syncfs", racing_syncfs)
    b = Batch()
    for i in range(40):
        b.write(target / f"k{i}", b"ours", exclusive=True)
    conflicts = []
    b.commit(on_exists=lambda path, data: conflicts.append(path.name))
    assert conflicts == ["k3"]
    assert (target / "k3").read_bytes() == b"theirs"
    assert (target / "k4").read_bytes() == b"ours"
    assert sorted(os.listdir(tmp_path)) == ["shard"]
    assert len(os.listdir(target)) == 40


def test_discard_after_write_ahead_removes_temps_in_existing_directories(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "keep").write_bytes(b"k")
    b = Batch()
    for i in range(3000):
        b.write(tmp_path / "old" / f"f{i}", b"x")
        b.write(tmp_path / "new" / f"g{i}", b"y")
    b.write_ahead()
    b.discard()
    assert sorted(os.listdir(tmp_path)) == ["old"]
    assert os.listdir(tmp_path / "old") == ["keep"]


def test_root_refuses_a_link_inside_the_store_for_new_trees_too(tmp_path):
    from nscpy.store.errors import UnsafePath

    root = tmp_path / "store"
    (root / "a").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "a" / "link").symlink_to(outside)
    b = Batch()
    for i in range(40):
        b.write(root / "a" / "link" / "new" / f"f{i}", b"x", root=root)
    with pytest.raises(UnsafePath):
        b.commit()
    assert os.listdir(outside) == []
