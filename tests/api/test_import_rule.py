"""The CLI has no second write path: commands write the store only by calling nscpy.actions
(the implementation of nscpy.api). The rule, as docs/api.md states it:

1. nothing in nscpy/commands imports the store's writers (DataStore, KeyStore, batches, the
   keyring backend, the journal; of nscpy.store.atomic only write_output and atomic_write, for
   --output-file, which is a file outside the store) or a JWT encoder or signer (nscpy.jwt's
   encode*, sign*);
2. no command calls a writing method of the data store or the keystore (only read_*, list_*,
   has_*, find_*, get, info and the backend's name).

Everything else a command needs (decoding, parsing values, starting a server) it may import.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

COMMANDS = Path(__file__).resolve().parents[2] / "nscpy" / "commands"

WRITER_MODULES = (
    "nscpy.store.jwtstore",
    "nscpy.store.keystore",
    "nscpy.store.batch",
    "nscpy.store.keyring_backend",
    "nscpy.store.journal",
)
WRITER_NAMES = {"DataStore", "KeyStore", "StoreBatch", "Batch", "FileSeedBackend", "atomic"}
SIGNING = re.compile(r"^(encode|sign)")
READ_PREFIXES = ("read_", "list_", "has_", "find_", "require", "get", "info", "backend")


def _modules() -> list[tuple[str, ast.Module]]:
    return [(p.name, ast.parse(p.read_text(), str(p))) for p in sorted(COMMANDS.glob("*.py"))]


def _forbidden(module: str, name: str | None) -> bool:
    if module.startswith(WRITER_MODULES):
        return True
    if module == "nscpy.store.atomic":
        return name not in ("atomic_write", "write_output")
    if module.startswith("nscpy.store") and name in WRITER_NAMES:
        return True
    return module.startswith("nscpy.jwt") and name is not None and bool(SIGNING.match(name))


def import_violations(tree: ast.Module) -> list[str]:
    """Imports of the store's writers or of a JWT encoder/signer."""
    bad: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("nscpy"):
            bad += [
                f"from {node.module} import {a.name}"
                for a in node.names
                if _forbidden(node.module, a.name)
            ]
        elif isinstance(node, ast.Import):
            bad += [f"import {a.name}" for a in node.names if _forbidden(a.name, None)]
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


def test_commands_import_no_writer_and_no_signer() -> None:
    found = {name: import_violations(tree) for name, tree in _modules()}
    assert {k: v for k, v in found.items() if v} == {}


def test_commands_never_write_the_store_themselves() -> None:
    found = {name: write_calls(tree) for name, tree in _modules()}
    assert {k: v for k, v in found.items() if v} == {}


def test_the_checks_catch_a_command_with_its_own_write_path() -> None:
    rogue = ast.parse(
        "from nscpy.jwt import encode\n"
        "from nscpy.store.jwtstore import DataStore\n"
        "from nscpy.store import KeyStore\n"
        "import nscpy.store.batch\n"
        "def cmd(ws):\n"
        "    ws.store.write_user('O', 'A', 'u', encode(c, k, iat=0))\n"
        "    ws.keystore.put(seed)\n"
    )
    assert import_violations(rogue) == [
        "from nscpy.jwt import encode",
        "from nscpy.store.jwtstore import DataStore",
        "from nscpy.store import KeyStore",
        "import nscpy.store.batch",
    ]
    assert write_calls(rogue) == ["line 6: .store.write_user", "line 7: .keystore.put"]


# actions the CLI calls that write nothing to the store: reading, rendering, talking to servers
READ_ONLY_ACTIONS = {
    "nscpy.actions.account_server": {"fetch_operator", "operator_source"},
    "nscpy.actions.callout": {"serve_setup"},
    "nscpy.actions.checks": {"expirations", "validate_file", "validate_store"},
    "nscpy.actions.describe": {"describe_token", "field_at", "fmt_time"},
    # plan --drift / apply --push talk to the resolver; the store is not written
    "nscpy.actions.drift": {"read_drift", "push_accounts"},
    "nscpy.actions.export_spec": {"spec_to_toml"},
    # the shared KV store's reads: history, an old revision, watching, who has a sealed seed
    "nscpy.actions.kvstore": {"entity_key", "history", "revision_text", "shared_with", "watch"},
    "nscpy.actions.diagram": {"component_graph", "object_graph", "render"},
    "nscpy.actions.listing": {"referenced_keys", "select_keys"},
    "nscpy.actions.lookup": {"find_user"},
    "nscpy.actions.revocations": {
        "list_user_revocations",
        "list_activation_revocations",
        "list_export_revocations",
    },
    "nscpy.actions.serverconfig": {"generate_config"},
    "nscpy.actions.tool": {"publish", "request", "serve", "user_options"},
    "nscpy.actions.workspace": {"set_environment", "system_clock"},
}


def _action_functions(directory: Path) -> set[tuple[str, str]]:
    import importlib
    import inspect

    found: set[tuple[str, str]] = set()
    for path in directory.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nscpy.actions"):
                module = importlib.import_module(str(node.module))
                for alias in node.names:
                    if inspect.isfunction(getattr(module, alias.name, None)):
                        found.add((str(node.module), alias.name))
    return found


def test_every_store_write_of_the_cli_is_in_the_api() -> None:
    api = _action_functions(COMMANDS.parent / "api")
    missing = sorted(
        f"{module}.{name}"
        for module, name in _action_functions(COMMANDS) - api
        if name not in READ_ONLY_ACTIONS.get(module, set())
    )
    assert missing == [], (
        "commands call these actions, which nscpy.api does not offer: expose each in "
        "nscpy/api (one method, one call), or list it in READ_ONLY_ACTIONS if it writes nothing"
    )
