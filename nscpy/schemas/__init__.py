"""JSON Schemas (draft 2020-12) of every `--json` output: ``<command words joined by '-'>.json``.

``describe user --json`` is described by ``describe-user.json``; shared definitions live in
``common.json``. Each file's ``$id`` is https://nscpy.example/schemas/v1/<file>: an identifier
that relative ``$ref``s resolve against, not a download location. The files ship with the
package; ``path(...)`` finds them, so any JSON Schema validator can check nscpy's output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["BASE_URI", "SCHEMA_DIR", "load", "name_for", "names", "path"]

SCHEMA_DIR = Path(__file__).resolve().parent
BASE_URI = "https://nscpy.example/schemas/v1/"


def name_for(words: str | list[str] | tuple[str, ...]) -> str:
    """The schema name of a command: 'describe user' -> 'describe-user'."""
    parts = words.split() if isinstance(words, str) else list(words)
    return "-".join(parts)


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
