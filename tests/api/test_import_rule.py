"""The CLI has no second write path: commands write the store only by calling nscpy.actions
(the implementation of nscpy.api). The rule, as docs/api.md states it:

1. nscpy/commands imports from nscpy only the command layer itself, nscpy.actions, nscpy.api,
   the pure value parsers, the error tree, and a few read-only helpers (listed below);
2. no command calls a writing method of the data store or the keystore (only read_*, list_*,
   has_*, find_*, get, info and the backend's name);
3. no command signs: nothing imports nscpy.jwt's encoders.
"""

from __future__ import annotations

import ast
from pathlib import Path

COMMANDS = Path(__file__).resolve().parents[2] / "nscpy" / "commands"

ALLOWED_MODULES = ("nscpy.commands", "nscpy.actions", "nscpy.api", "nscpy.values", "nscpy.errors")
# read-only helpers: decoding for describe/list, pure key generation for `generate nkey`,
# connect options for `tool`, and writing --output-file (a file outside the store)
ALLOWED_NAMES = {
    ("nscpy", "__version__"),
    ("nscpy", "keys"),
    ("nscpy", "resolver"),
    ("nscpy.jwt", "peek"),
    ("nscpy.jwt.codec", "decode"),
    ("nscpy.jwt.jws", "verify_payload"),
    ("nscpy.jwt.creds", "format_jwt"),
    ("nscpy.store.atomic", "atomic_write"),
}
READ_PREFIXES = ("read_", "list_", "has_", "find_", "require", "get", "info", "backend")


def _modules() -> list[tuple[str, ast.Module]]:
    return [(p.name, ast.parse(p.read_text(), str(p))) for p in sorted(COMMANDS.glob("*.py"))]


def import_violations(tree: ast.Module) -> list[str]:
    """`from nscpy.X import Y` and `import nscpy.X` that the rule does not allow."""
    bad: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nscpy"):
            if node.module.startswith(ALLOWED_MODULES):
                continue
            bad += [
                f"from {node.module} import {a.name}"
                for a in node.names
                if (node.module, a.name) not in ALLOWED_NAMES
            ]
        elif isinstance(node, ast.Import):
            bad += [
                f"import {a.name}"
                for a in node.names
                if a.name.startswith("nscpy") and not a.name.startswith(ALLOWED_MODULES)
            ]
    return bad


def write_calls(tree: ast.Module) -> list[str]:
    """Calls like `ws.store.write_user(...)` or `app.ws.keystore.put(...)`."""
    bad: list[str] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)):
            continue
        if node.value.attr in ("store", "keystore") and not node.attr.startswith(READ_PREFIXES):
            bad.append(f"line {node.lineno}: .{node.value.attr}.{node.attr}")
    return bad


def test_commands_import_only_actions_api_and_read_helpers() -> None:
    found = {name: import_violations(tree) for name, tree in _modules()}
    assert {k: v for k, v in found.items() if v} == {}


def test_commands_never_write_the_store_themselves() -> None:
    found = {name: write_calls(tree) for name, tree in _modules()}
    assert {k: v for k, v in found.items() if v} == {}


def test_the_checks_catch_a_command_with_its_own_write_path() -> None:
    rogue = ast.parse(
        "from nscpy.jwt import encode\n"
        "from nscpy.store.jwtstore import DataStore\n"
        "def cmd(ws):\n"
        "    ws.store.write_user('O', 'A', 'u', encode(c, k, iat=0))\n"
        "    ws.keystore.put(seed)\n"
    )
    assert import_violations(rogue) == [
        "from nscpy.jwt import encode",
        "from nscpy.store.jwtstore import DataStore",
    ]
    assert write_calls(rogue) == ["line 4: .store.write_user", "line 5: .keystore.put"]
