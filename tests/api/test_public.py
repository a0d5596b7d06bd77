"""The public surface: light to import, typed for users (mypy --strict), documented example runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import nscpy.api

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "api_usage.py"


@pytest.mark.e2e
def test_import_is_light() -> None:
    code = (
        "import sys, nscpy.api; "
        "print(sorted(m for m in ('asyncio', 'nats', 'click') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_every_public_name_exists_and_is_documented() -> None:
    docs = (REPO / "docs" / "api.md").read_text()
    for name in nscpy.api.__all__:
        assert getattr(nscpy.api, name).__doc__, name
        assert f"`{name}" in docs, f"docs/api.md does not mention {name}"
    assert (REPO / "nscpy" / "py.typed").is_file()


@pytest.mark.e2e
def test_the_documented_script_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(tmp_path / "store")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "refused: user 'clerk' already exists" in done.stdout
    assert "issued U" in done.stdout
    # no seed printed: no 58-character word starting with S
    assert not [w for w in done.stdout.split() if w.startswith("S") and len(w) == 58]


@pytest.mark.e2e
def test_a_user_script_is_mypy_strict_clean() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout + done.stderr
