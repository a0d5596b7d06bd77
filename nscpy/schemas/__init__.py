"""JSON Schemas (draft 2020-12) of every `--json` output: ``<command words joined by '-'>.json``.

``describe user --json`` is described by ``describe-user.json``. Subcommands of one group that
print the same document share the group's schema (``rotate-signing-key.json`` serves ``rotate
signing-key start|push|finish|emergency``). Shared definitions live in ``common.json``;
``spec.json`` describes the provisioning spec that plan and apply read. Each file's ``$id`` is
https://nscpy.invalid/schemas/<file>: an identifier that relative ``$ref``s resolve against,
never a download location. The files ship with the package; ``path(...)`` finds them, so any
JSON Schema validator can check nscpy's output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["BASE_URI", "SCHEMA_DIR", "for_command", "load", "name_for", "names", "path"]

SCHEMA_DIR = Path(__file__).resolve().parent
BASE_URI = "https://nscpy.invalid/schemas/"


def name_for(words: str | list[str] | tuple[str, ...]) -> str:
    """The schema name of a command: 'describe user' -> 'describe-user'."""
    parts = words.split() if isinstance(words, str) else list(words)
    return "-".join(parts)


def for_command(words: str | list[str] | tuple[str, ...]) -> str | None:
    """The schema name for a command's --json: its own, else its group's (one level up, for a
    group whose subcommands share a document); None if neither file exists."""
    parts = words.split() if isinstance(words, str) else list(words)
    candidates = [parts] + ([parts[:-1]] if len(parts) > 2 else [])
    for candidate in candidates:
        if path(name_for(candidate)).is_file():
            return name_for(candidate)
    return None


def path(name: str) -> Path:
    """The schema file of a schema name (it may not exist)."""
    return SCHEMA_DIR / f"{name}.json"


def names() -> list[str]:
    """Every schema in the package, common.json included, sorted."""
    return sorted(p.stem for p in SCHEMA_DIR.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    """The parsed schema document."""
    data: dict[str, Any] = json.loads(path(name).read_text("utf-8"))
    return data
