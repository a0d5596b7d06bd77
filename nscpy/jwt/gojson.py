"""Go encoding/json for tokens: the bytes json.Marshal writes (so jti and signatures match) and a
parser that reads payloads as Go does. The writer itself is `nscpy.gojson`, shared with the store.
"""

from __future__ import annotations

import json
from typing import Any

from nscpy.gojson import go_dumps
from nscpy.jwt.errors import InvalidClaims, MalformedToken

__all__ = ["dumps", "loads"]


def dumps(obj: Any, *, floats: bool = False) -> bytes:
    """Compact Go-style JSON as UTF-8 bytes; floats=True if obj may hold floats (generic claims)."""
    try:
        return go_dumps(obj, floats=floats).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidClaims("claims contain a lone surrogate, which is not valid UTF-8") from exc
    except (TypeError, ValueError) as exc:
        raise InvalidClaims(f"claims cannot be written as JSON: {exc}") from exc


def _reject_constant(name: str) -> Any:
    raise MalformedToken(f"JSON constant {name} is not allowed")


# one decoder, built once: json.loads() with any keyword builds a new decoder per call
_DECODE = json.JSONDecoder(parse_constant=_reject_constant).decode


def loads(data: bytes) -> Any:
    """Parse JSON as Go does for tokens: invalid UTF-8 becomes U+FFFD, NaN/Infinity are refused."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
    try:
        return _DECODE(text)
    except json.JSONDecodeError as exc:
        raise MalformedToken(f"payload is not valid JSON: {exc.msg} at offset {exc.pos}") from None
    except RecursionError:
        raise MalformedToken("payload JSON is nested too deeply") from None
