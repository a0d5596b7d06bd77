"""Factories for store tests: every store lives under tmp_path, nothing touches $HOME."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from nscpy.store import DataStore, KeyStore, StorePaths, resolve_paths

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def make_paths(tmp_path: Path) -> Callable[..., StorePaths]:
    """make_paths(name, **env): StorePaths with all three dirs at tmp_path/name (nsc -H)."""

    def make(name: str = "nsc", **env: str) -> StorePaths:
        return resolve_paths(env, tmp_path / "home", all_dirs=str(tmp_path / name))

    return make


@pytest.fixture
def paths(make_paths: Callable[..., StorePaths]) -> StorePaths:
    return make_paths()


@pytest.fixture
def datastore(paths: StorePaths) -> DataStore:
    return DataStore(paths, lock_timeout=10)


@pytest.fixture
def keystore(paths: StorePaths) -> KeyStore:
    return KeyStore(paths)
