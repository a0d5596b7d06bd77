"""`pip install nscpy[test]` into an empty virtualenv is all the example module needs.

The venv is made in the test's temp dir from a copy of the package sources (so nothing is
built inside the repository), reusing pip's download and wheel cache; every step has a time
limit, and the venv (about 100 MB) is deleted when the test ends, passed or failed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "test_nats_operator_mode.py"
SOURCES = ("pyproject.toml", "README.md", "nscpy", "server_stub")
INSTALL_TIMEOUT = 900


def _run(*argv: str | Path, cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def venv(tmp_path: Path) -> Iterator[Path]:
    """Where the venv goes; removed afterwards (pytest keeps its temp dirs, not this)."""
    path = tmp_path / "venv"
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.e2e
def test_example_module_passes_in_a_fresh_venv(tmp_path: Path, venv: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, src / name)
    made = _run(sys.executable, "-m", "venv", venv, cwd=tmp_path, timeout=120)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    installed = _run(
        python,
        "-m",
        "pip",
        "install",
        "--no-input",
        f"{src}[test]",
        cwd=tmp_path,
        timeout=INSTALL_TIMEOUT,
    )
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    probe = (
        "import nscpy, nscpy.schemas, server_stub; print(nscpy.__file__); "
        "print(len([n for n in nscpy.schemas.names() if nscpy.schemas.path(n).is_file()]))"
    )
    where = _run(python, "-c", probe, cwd=tmp_path, timeout=60)
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr
    # the schemas ship as package data
    assert int(where.stdout.split()[1]) == len(list((REPO / "nscpy" / "schemas").glob("*.json")))
    run_dir = tmp_path / "suite"
    run_dir.mkdir()
    shutil.copy2(EXAMPLE, run_dir / EXAMPLE.name)
    for server in ("stub", "real"):
        done = _run(
            python,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            EXAMPLE.name,
            f"--nats-server={server}",
            cwd=run_dir,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
        assert f"nats_server = {server}" in done.stdout
        assert "4 passed" in done.stdout
