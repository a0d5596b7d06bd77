"""The forked batch writer (nscpy.store.batch_child): files written, first error brought back."""

from __future__ import annotations

import os
import stat

import pytest

from nscpy.store import batch_write
from nscpy.store.batch import Batch
from nscpy.store.batch_child import WriterChild, can_fork
from nscpy.store.errors import StoreIOError, UnsafePath

pytestmark = pytest.mark.skipif(
    not (can_fork() and batch_write.has_syncfs()), reason="needs fork and syncfs(2)"
)


def test_the_child_writes_what_it_is_sent_and_stops_at_the_first_error(tmp_path):
    (tmp_path / "taken").write_text("mine")
    child = WriterChild()
    child.send([(str(tmp_path), None, [("a", 0o600, b"1")])])
    child.send([(str(tmp_path), None, [("taken", 0o600, b"2"), ("b", 0o600, b"3")])])
    with pytest.raises(StoreIOError, match="taken"):
        child.finish()
    assert (tmp_path / "a").read_bytes() == b"1"
    assert stat.S_IMODE(os.stat(tmp_path / "a").st_mode) == 0o600
    assert (tmp_path / "taken").read_text() == "mine"
    assert not (tmp_path / "b").exists()


def test_the_child_reaches_directories_below_a_root_without_following_links(tmp_path):
    root = tmp_path / "store"
    (root / "real").mkdir(parents=True)
    (root / "link").symlink_to(root / "real")
    child = WriterChild()
    child.send([(str(root / "link"), str(root), [("a", 0o600, b"1")])])
    with pytest.raises(UnsafePath):
        child.finish()
    assert os.listdir(root / "real") == []


def test_a_batch_written_ahead_by_the_child_commits_every_file(tmp_path):
    b = Batch()
    target = tmp_path / "new" / "dir"
    for i in range(50):
        b.write(target / f"f{i}", f"data {i}", root=tmp_path)
    b.write_ahead()
    assert b._writer is not None and b._writer._child is not None  # the child took the work
    for i in range(50, 60):
        b.write(target / f"f{i}", f"data {i}", root=tmp_path)
    written = b.commit()
    assert len(written) == 60
    assert sorted(os.listdir(target)) == sorted(f"f{i}" for i in range(60))
    assert (target / "f55").read_text() == "data 55"
    assert [p.name for p in tmp_path.iterdir()] == ["new"]  # no hidden tree left


def test_a_batch_discarded_while_the_child_writes_leaves_nothing(tmp_path):
    (tmp_path / "old").mkdir()
    b = Batch()
    for i in range(2000):
        b.write(tmp_path / "old" / f"f{i}", "x" * 500, root=tmp_path)  # temp names beside
        b.write(tmp_path / "new" / f"f{i}", "y" * 500, root=tmp_path)  # a hidden new tree
    b.write_ahead()
    assert b._writer is not None and b._writer._child is not None
    b.discard()
    assert os.listdir(tmp_path / "old") == []
    assert os.listdir(tmp_path) == ["old"]
