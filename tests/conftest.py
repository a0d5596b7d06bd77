"""Shared fixtures. tests/data/vectors.json is a copy of the Go-made vectors in shared/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    """The known-answer vectors produced by the official Go nkeys and jwt libraries."""
    return json.loads((DATA / "vectors.json").read_text())
