"""atomic: modes, crash safety (real SIGKILLed processes), locks across processes, batches."""

from __future__ import annotations

import errno
import os
import random
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from nscpy.store import StoreIOError, StoreLocked, atomic
from nscpy.store.atomic import FileLock, atomic_create, atomic_write, ensure_dir
from nscpy.store.batch import Batch

from .conftest import REPO
from .workers import is_whole, payload


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def run_worker(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.workers", *args],
        cwd=REPO,
        stderr=subprocess.PIPE,
    )


def test_write_sets_0600_and_dirs_0700_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "a" / "b" / "f.jwt", "x")
    finally:
        os.umask(old)
    assert mode(tmp_path / "a") == 0o700
    assert mode(tmp_path / "a" / "b") == 0o700
    assert mode(tmp_path / "a" / "b" / "f.jwt") == 0o600
    assert (tmp_path / "a" / "b" / "f.jwt").read_text() == "x"


def test_replace_keeps_no_temp_files(tmp_path):
    for i in range(3):
        atomic_write(tmp_path / "f", f"v{i}")
    assert sorted(os.listdir(tmp_path)) == ["f"]
    assert (tmp_path / "f").read_text() == "v2"


def test_file_in_the_way_of_a_directory_is_a_clear_error(tmp_path):
    (tmp_path / "blocker").write_text("")
    with pytest.raises(StoreIOError, match="a file is in the way"):
        ensure_dir(tmp_path / "blocker" / "sub")


@pytest.mark.e2e
def test_unwritable_directory_is_a_one_line_store_error():
    # Root ignores permissions, so as root the writer drops to 'nobody' after its imports;
    # the directory is under /tmp (world-traversable), not pytest's private tmp_path.
    with tempfile.TemporaryDirectory() as top:
        os.chmod(top, 0o755)
        ro = Path(top) / "ro"
        ro.mkdir(mode=0o555)
        code = (
            "import os, sys; from pathlib import Path; from nscpy.store import StoreIOError\n"
            "from nscpy.store.atomic import atomic_write\n"
            "if os.geteuid() == 0:\n    os.setgid(65534); os.setuid(65534)\n"
            "try:\n    atomic_write(Path(sys.argv[1]), 'x')\n"
            "except StoreIOError as e:\n    print(e)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, str(ro / "f")],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        assert out == f"cannot write {str(ro / 'f')!r}: Permission denied\n"
        assert os.listdir(ro) == []


def test_failure_during_temp_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "f.jwt"
    atomic_write(target, "old")
    real_write = os.write

    def disk_full_after_first_chunk(fd, data):
        real_write(fd, bytes(data[:3]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full_after_first_chunk)
    with pytest.raises(StoreIOError, match="No space left"):
        atomic_write(target, "new content")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["f.jwt"]


@pytest.mark.e2e
def test_process_killed_before_rename_leaves_old_file_intact(tmp_path):
    target = tmp_path / "f.jwt"
    atomic_write(target, payload(1, 50_000))
    with run_worker("die-before-rename", str(target)) as proc:
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err
    assert target.read_bytes() == payload(1, 50_000)
    leftovers = [n for n in os.listdir(tmp_path) if n != "f.jwt"]
    assert len(leftovers) == 1 and atomic.is_temp_name(leftovers[0])


@pytest.mark.e2e
@pytest.mark.parametrize("mode_name", ["single", "batch"])
def test_sigkill_mid_writes_never_leaves_a_torn_file(tmp_path, mode_name):
    rng = random.Random(7)
    for _round in range(3):
        with run_worker("writer", str(tmp_path), mode_name) as proc:
            deadline = time.monotonic() + 20
            # let it get going (some files exist), then kill it at a random moment
            while not list(tmp_path.glob("f*.jwt")) and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.05, 0.4))
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL, err
        files = list(tmp_path.glob("f*.jwt"))
        assert files
        for f in files:
            assert is_whole(f.read_bytes()), f"{f.name} is torn"
            assert mode(f) == 0o600


def test_atomic_create_refuses_to_replace(tmp_path):
    target = tmp_path / "k.nk"
    assert atomic_create(target, "first") is True
    assert atomic_create(target, "second") is False
    assert target.read_text() == "first"
    assert os.listdir(tmp_path) == ["k.nk"]


@pytest.mark.e2e
def test_lock_excludes_another_process_and_times_out(tmp_path):
    lock_path = tmp_path / "store.lock"
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys,time; from pathlib import Path; from nscpy.store.atomic import FileLock\n"
            "with FileLock(Path(sys.argv[1])):\n"
            "    print('held', flush=True); time.sleep(30)",
            str(lock_path),
        ],
        stdout=subprocess.PIPE,
    ) as holder:
        try:
            assert holder.stdout is not None and holder.stdout.readline() == b"held\n"
            start = time.monotonic()
            with pytest.raises(StoreLocked, match="locked by another process"):
                FileLock(lock_path, timeout=0.3).acquire()
            assert time.monotonic() - start < 5
        finally:
            holder.kill()
            holder.communicate(timeout=10)
    # the kernel released the dead holder's lock
    with FileLock(lock_path, timeout=2) as lock:
        assert lock.locked
    assert mode(lock_path) == 0o600


def test_lock_is_reentrant_within_one_object(tmp_path):
    lock = FileLock(tmp_path / "l")
    with lock, lock:
        assert lock.locked
    assert not lock.locked


def test_lock_without_create_needs_the_file(tmp_path):
    from nscpy.store import StoreError

    with pytest.raises(StoreError, match="does not exist"):
        FileLock(tmp_path / "absent", create=False).acquire()
    assert not (tmp_path / "absent").exists()


@pytest.mark.parametrize("count", [5, 200])  # below and above the syncfs threshold
def test_batch_writes_everything_on_commit(tmp_path, count):
    with Batch() as b:
        for i in range(count):
            b.write(tmp_path / f"d{i % 3}" / f"f{i}", f"v{i}")
        assert not list(tmp_path.iterdir())  # nothing visible before commit
    for i in range(count):
        f = tmp_path / f"d{i % 3}" / f"f{i}"
        assert f.read_text() == f"v{i}"
        assert mode(f) == 0o600
    assert sorted(os.listdir(tmp_path / "d0")) == sorted(f"f{i}" for i in range(0, count, 3))


def test_batch_exception_changes_nothing(tmp_path):
    atomic_write(tmp_path / "keep", "old")
    with pytest.raises(RuntimeError), Batch() as b:
        b.write(tmp_path / "keep", "new")
        b.write(tmp_path / "other", "x")
        raise RuntimeError("abort")
    assert os.listdir(tmp_path) == ["keep"]
    assert (tmp_path / "keep").read_text() == "old"


def test_batch_exclusive_write_reports_existing_file(tmp_path):
    atomic_write(tmp_path / "a", "there")
    seen = []
    b = Batch()
    b.write(tmp_path / "a", "mine", exclusive=True)
    b.write(tmp_path / "b", "mine", exclusive=True)
    b.remove(tmp_path / "gone")
    written = b.commit(on_exists=lambda p, data: seen.append((p.name, data)))
    assert written == [tmp_path / "b"]
    assert seen == [("a", b"mine")]
    assert (tmp_path / "a").read_text() == "there"
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]
