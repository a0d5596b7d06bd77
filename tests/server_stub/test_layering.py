"""server_stub's import graph: no cycle at run time (lazy imports inside functions count), the
server never imports JetStream, and the services see the server only through hooks.py."""

from __future__ import annotations

import ast
from pathlib import Path

import server_stub

ROOT = Path(server_stub.__file__).parent


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in ROOT.rglob("*.py")}


def _runtime_imports(path: Path) -> set[str]:
    """Modules of server_stub that `path` imports at run time (TYPE_CHECKING blocks left out)."""
    tree = ast.parse(path.read_text())
    typing_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in names if name in MODULES)
    return found


GRAPH = {name: _runtime_imports(path) - {name} for name, path in MODULES.items()}


def _reaches(start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        current = todo.pop()
        for nxt in GRAPH[current]:
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def test_the_server_and_its_connection_modules_are_on_no_cycle() -> None:
    core = [m for m in MODULES if not m.startswith("server_stub.jetstream")]
    cyclic = sorted(m for m in [*core, "server_stub.jetstream.host"] if _reaches(m, m))
    assert cyclic == []


def test_the_server_never_imports_jetstream() -> None:
    for name in ("server_stub.server", "server_stub.client", "server_stub.inbound"):
        assert not any(dep.startswith("server_stub.jetstream") for dep in GRAPH[name]), name


def test_services_see_the_server_through_hooks_only() -> None:
    users = ("server_stub.jetstream.host", "server_stub.operator", "server_stub.resolver")
    for name in users:
        assert not _reaches(name, "server_stub.server"), name
        assert "server_stub.hooks" in GRAPH[name], name
