"""The tutorial's example module (docs/examples, shown verbatim in docs/testing.md) passes on
the bundled stub and on the real nats-server, also under pytest-xdist; a failing test leaves no
server process and no directory behind."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "test_nats_operator_mode.py"
TUTORIAL = REPO / "docs" / "testing.md"


def pytest_run(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None, python: str = sys.executable
) -> subprocess.CompletedProcess[str]:
    """`python -m pytest args` in a child process, bounded in time."""
    return subprocess.run(
        [python, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_tutorial_shows_the_example_module_verbatim() -> None:
    blocks = re.findall(r"```python\n(.*?)```", TUTORIAL.read_text(), re.S)
    assert EXAMPLE.read_text() in blocks


@pytest.mark.e2e
@pytest.mark.parametrize("server", ["stub", "real"])
def test_example_module_passes(server: str) -> None:
    done = pytest_run(str(EXAMPLE), f"--nats-server={server}", "-W", "error")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"nats_server = {server}" in done.stdout
    assert "4 passed" in done.stdout


@pytest.mark.e2e
def test_example_module_under_xdist() -> None:
    done = pytest_run(str(EXAMPLE), "-n", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


FAILING = """
import json, os

def test_fails(nats_server, nats_operator, nats_account, nats_user, nats_connect):
    nats_user(nats_account("A"), "u")
    record = {"pid": nats_server.process.pid,
              "dirs": [str(nats_operator.home.parent), str(nats_server.config.parent)]}
    with open(os.environ["NSCPY_RECORD"], "w") as f:
        json.dump(record, f)
    assert False, "this test fails on purpose"
"""


@pytest.mark.e2e
@pytest.mark.parametrize("server", ["stub", "real"])
def test_a_failing_test_leaves_nothing_behind(server: str, tmp_path: Path) -> None:
    (tmp_path / "test_fails.py").write_text(FAILING)
    record = tmp_path / "record.json"
    done = pytest_run(
        "test_fails.py",
        f"--nats-server={server}",
        cwd=tmp_path,
        env={"NSCPY_RECORD": str(record)},
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "this test fails on purpose" in done.stdout
    found = json.loads(record.read_text())
    assert not Path(f"/proc/{found['pid']}").exists()
    assert [d for d in found["dirs"] if Path(d).exists()] == []


@pytest.mark.e2e
def test_the_server_can_be_chosen_by_environment(tmp_path: Path) -> None:
    (tmp_path / "test_nothing.py").write_text("def test_nothing():\n    pass\n")
    done = pytest_run("--co", cwd=tmp_path, env={"NSCPY_TEST_SERVER": "real"})
    assert "nats_server = real" in done.stdout, done.stdout + done.stderr
    done = pytest_run("--co", "-p", "nscpy.testing", "--nats-server=/bin/true", cwd=tmp_path)
    assert "nats_server = /bin/true" in done.stdout, done.stdout + done.stderr
