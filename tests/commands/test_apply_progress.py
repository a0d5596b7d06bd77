"""The progress bar: on a terminal for big applies; never on a pipe or with --json."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

from tests.commands.cliutil import run

SPEC = """
[operator]
name = "P"
[accounts.A]
[[accounts.A.user_sets]]
name = "u-{n:04}"
count = 400
"""


def test_no_progress_on_a_pipe_or_with_json(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    code, out, err = run("-H", str(tmp_path / "a"), "apply", str(spec))
    assert code == 0 and err == ""
    assert out.splitlines()[-1].startswith("applied 402 changes")
    code, out, err = run("-H", str(tmp_path / "b"), "apply", str(spec), "--json")
    assert code == 0 and err == ""


@pytest.mark.e2e
def test_progress_bar_on_a_terminal(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "nscpy", "-H", str(tmp_path / "t"), "apply", str(spec)],
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=120,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if follower != -1:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 0
    shown = b"".join(chunks).decode()
    assert "signing" in shown and "100%" in shown
    assert b"signing" not in proc.stdout
