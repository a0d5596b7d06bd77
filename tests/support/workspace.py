"""Action-level tests' helpers (a plugin of tests/conftest.py): the `make_ws` fixture (a Workspace
in tmp_path), a spec from TOML text, and a snapshot of every file of a store."""

from __future__ import annotations

from pathlib import Path

import pytest

from nscpy.actions.workspace import Workspace
from nscpy.spec.parse import parse_spec


@pytest.fixture
def make_ws(tmp_path):
    def make(name: str = "nsc", clock: int | None = None) -> Workspace:
        home = tmp_path / name
        kwargs = {} if clock is None else {"clock": lambda: clock}
        return Workspace.open(all_dirs=str(home), env={"HOME": str(tmp_path)}, **kwargs)

    return make


def spec_of(text: str, name: str = "spec.toml"):
    return parse_spec([(name, text)])


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under root: (content, mtime in ns)."""
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
