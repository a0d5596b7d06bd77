"""Shared fixtures. tests/data/vectors.json: known-answer vectors made with the official Go nkeys
and jwt libraries (their seeds, keys, signatures and tokens are what Go produced)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hypothesis  # noqa: F401  (see below)
import pytest

# hypothesis is imported here, before any test runs, on purpose: its pytest plugin otherwise imports
# it lazily in the terminal summary, and CPython 3.11.7's parser then fails with "AST constructor
# recursion depth mismatch" after asyncio-heavy e2e modules.

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    """The known-answer vectors produced by the official Go nkeys and jwt libraries."""
    return json.loads((DATA / "vectors.json").read_text())


# tests.support.noprocess: `pytest --fast` (make test-fast) leaves out e2e tests and fails any
# other test that starts a process; tests.support.workspace: the make_ws fixture
pytest_plugins = ["pytester", "tests.support.noprocess", "tests.support.workspace"]
