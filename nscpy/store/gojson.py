"""JSON text as Go's encoding/json.Marshal writes it, so files nsc also writes compare equal."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["go_dumps"]

# Go escapes these even though JSON does not require it (HTML safety, JavaScript line breaks).
_GO_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def go_dumps(value: Any) -> str:
    """Compact JSON, keys in the given order, non-ASCII kept, Go's HTML escapes applied."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_GO_ESCAPES)
