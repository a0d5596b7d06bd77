"""The layer rules of docs/architecture.md, checked on the sources (ast; every import counts,
also those inside functions): who may import what, and no import cycle at module level."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# (where, what it must not import, except in these files)
RULES: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
    ("nscpy/actions", ("click",), ()),
    ("nscpy/api", ("click",), ()),
    ("nscpy/store", ("click", "nscpy.actions", "nscpy.commands", "nscpy.api"), ()),
    (
        "nscpy/jwt",
        ("click", "nscpy.store", "nscpy.actions", "nscpy.commands", "nscpy.api", "server_stub"),
        (),
    ),
    (
        "nscpy/keys",
        ("click", "nscpy.store", "nscpy.actions", "nscpy.commands", "nscpy.api", "server_stub"),
        (),
    ),
    ("server_stub", ("click", "nscpy.actions", "nscpy.commands", "nscpy.api"), ()),
    # the library runs the stub only to serve it: `nscpy server`, the pytest plugin, the demo
    ("nscpy", ("server_stub",), ("nscpy/commands/server.py", "nscpy/testing", "nscpy/demo.py")),
]


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _breaks(name: str, banned: tuple[str, ...]) -> bool:
    return any(name == b or name.startswith(b + ".") for b in banned)


def test_each_layer_imports_only_what_it_may() -> None:
    broken = []
    for where, banned, allowed in RULES:
        for path in sorted((REPO / where).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if any(rel == a or rel.startswith(a + "/") for a in allowed):
                continue
            broken += [f"{rel} imports {n}" for n in sorted(_imported(path)) if _breaks(n, banned)]
    assert broken == []


def test_no_import_cycle_at_module_level() -> None:
    spec = importlib.util.spec_from_file_location(
        "structure_report", REPO / "bench" / "structure_report.py"
    )
    assert spec is not None and spec.loader is not None
    report = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = report
    spec.loader.exec_module(report)
    edges = report.import_edges(report.load_modules(REPO))
    assert report.cycles(edges.module_level) == []
