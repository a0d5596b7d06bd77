"""`-o FILE` writes into pipes, devices and /dev/stdout; only regular files
are replaced atomically (mode 0600)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.commands.cliutil import REPO, ok, run


def _reader(fifo: Path, into: list[bytes]) -> threading.Thread:
    def read() -> None:
        with open(fifo, "rb") as f:
            into.append(f.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    "argv",
    [
        ["generate", "creds", "-a", "demo", "-n", "demo", "-o", "{out}"],
        ["describe", "user", "-a", "demo", "-n", "demo", "-J", "-o", "{out}"],
        ["generate", "config", "--mem-resolver", "--config-file", "{out}"],
        ["generate", "diagram", "component", "-o", "{out}"],
    ],
    ids=["creds", "describe", "config", "diagram"],
)
def test_a_named_pipe_is_written_into(home: Path, tmp_path: Path, argv: list[str]) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    thread = _reader(fifo, got)
    ok("-H", str(home), *(str(fifo) if a == "{out}" else a for a in argv))
    thread.join(timeout=10)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the pipe was replaced by a file"
    assert got and got[0].strip(), "the reader got nothing"


def test_creds_into_a_pipe_reach_the_reader(home: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    thread = _reader(fifo, got)
    ok("-H", str(home), "generate", "creds", "-a", "demo", "-n", "demo", "-o", str(fifo))
    thread.join(timeout=10)
    assert got[0] == (home / "creds/demo/demo/demo.creds").read_bytes()


@pytest.fixture
def null_device(tmp_path: Path) -> Path:
    """A private character device like /dev/null: if the code under test were broken, it
    would replace this node, not the machine's /dev/null (which other processes share)."""
    node = tmp_path / "null"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    return node


def test_a_character_device_is_not_replaced(home: Path, null_device: Path) -> None:
    before = os.lstat(null_device)
    ok("-H", str(home), "generate", "creds", "-a", "demo", "-n", "demo", "-o", str(null_device))
    after = os.lstat(null_device)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def _script(*argv: str) -> subprocess.CompletedProcess[bytes]:
    code = "import sys; from nscpy.commands.cli import main; main(sys.argv[1:])"
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, cwd=REPO, timeout=60
    )


# /dev/fd/1 rather than /dev/stdout: both are links under /dev to the process's stdout, but a
# broken implementation renaming a file over /dev/fd/1 fails (it lies in /proc), whereas over
# /dev/stdout it would replace the machine's /dev/stdout for every other process.
STDOUT = "/dev/fd/1"


@pytest.mark.e2e
def test_dev_stdout_to_a_pipe(home: Path) -> None:
    result = _script("-H", str(home), "generate", "creds", "-a", "demo", "-n", "demo", "-o", STDOUT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (home / "creds/demo/demo/demo.creds").read_bytes()


@pytest.mark.e2e
def test_dev_stdout_redirected_to_a_file(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.creds"
    code = "import sys; from nscpy.commands.cli import main; main(sys.argv[1:])"
    with open(target, "wb") as stdout:
        result = subprocess.run(
            [sys.executable, "-c", code, "-H", str(home), "generate", "creds", "-a", "demo"]
            + ["-n", "demo", "-o", STDOUT],
            stdout=stdout,
            stderr=subprocess.PIPE,
            cwd=REPO,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == (home / "creds/demo/demo/demo.creds").read_bytes()
    assert os.path.islink(STDOUT)


def test_a_regular_file_is_replaced_with_mode_0600(home: Path, tmp_path: Path) -> None:
    target = tmp_path / "x.creds"
    target.write_text("old")
    target.chmod(0o644)
    ok("-H", str(home), "generate", "creds", "-a", "demo", "-n", "demo", "-o", str(target))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert target.read_bytes() == (home / "creds/demo/demo/demo.creds").read_bytes()


def test_a_directory_is_refused(home: Path, tmp_path: Path) -> None:
    code, _, err = run(
        "-H", str(home), "generate", "creds", "-a", "demo", "-n", "demo", "-o", str(tmp_path)
    )
    assert code == 1 and "directory" in err


@pytest.mark.parametrize("dash", ["-", "--"])
def test_dash_means_stdout_not_a_file_named_dash(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dash: str
) -> None:
    monkeypatch.chdir(tmp_path)
    out = ok("-H", str(home), "generate", "creds", "-a", "demo", "-n", "demo", "-o", dash)
    assert out == (home / "creds/demo/demo/demo.creds").read_text()
    assert not (tmp_path / "-").exists() and not (tmp_path / "--").exists()
