"""Fixtures of the probe suite: a store made through the CLI, as an operator would make one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.commands.cliutil import ok


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """-H store with operator 'demo', accounts SYS and demo, user demo (init's own)."""
    root = tmp_path / "nsc"
    ok("-H", str(root), "init", "-n", "demo")
    return root
