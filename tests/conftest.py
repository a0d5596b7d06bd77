"""Shared fixtures. tests/data/vectors.json: known-answer vectors made with the official Go nkeys
and jwt libraries (their seeds, keys, signatures and tokens are what Go produced)."""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path
from typing import Any

import hypothesis  # noqa: F401  (see below)
import pytest


def _import_every_module(*packages: str) -> None:
    """Import every module of these packages now (their __main__ modules excepted)."""
    for package in packages:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, package + "."):
            if not info.name.endswith(".__main__"):
                importlib.import_module(info.name)


# Imported here, before any test runs, on purpose. pytest rewrites the assertions of every module
# of a distribution with a pytest11 plugin (nscpy's fixtures), with ast.parse when a module is
# first imported; CPython 3.11.7's ast.parse sometimes fails with "AST constructor recursion depth
# mismatch" when that happens deep in an asyncio-heavy test (seen for hypothesis' lazy import in
# the terminal summary, and for server_stub.listeners, imported by Server.start).
_import_every_module("nscpy", "server_stub")

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    """The known-answer vectors produced by the official Go nkeys and jwt libraries."""
    return json.loads((DATA / "vectors.json").read_text())


# tests.support.noprocess: `pytest --fast` (make test-fast) leaves out e2e tests and fails any
# other test that starts a process; tests.support.workspace: the make_ws fixture
pytest_plugins = ["pytester", "tests.support.noprocess", "tests.support.workspace"]
