"""Go encoding/json output: the exact text json.Marshal writes; serves the JWT codec and the store.

Values are insertion-ordered dicts (Go struct field order, omitempty already applied) written by the
C json encoder; the few Go differences are patched afterwards: `<`, `>`, `&`, U+2028 and U+2029 are
escaped (they can only occur inside strings, so a plain replace is safe). Floats appear only in
generic claims and are formatted as Go's encoder does (ES6 cut-offs). Errors are TypeError for a
value JSON cannot hold and ValueError (NaN, infinity); callers turn them into their own error types.
"""

from __future__ import annotations

import json
import math
from typing import Any

from nscpy.errors import NscValueError

__all__ = ["go_dumps", "go_float"]

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _make_fast_encode() -> Any:
    """One reusable C encoder: JSONEncoder.encode() builds a fresh one on every call."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return _ENCODER.encode

    def refuse(value: Any) -> Any:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")

    try:
        # markers=None: no circular-reference check (callers write trees they built themselves)
        chunks = make(
            None, refuse, json.encoder.encode_basestring, None, ":", ",", False, False, False
        )
    except TypeError:  # a Python whose C encoder takes other arguments
        return _ENCODER.encode

    def encode(obj: Any) -> str:
        if isinstance(obj, str):
            return str(json.encoder.encode_basestring(obj))
        return "".join(chunks(obj, 0))

    return encode


_FAST_ENCODE = _make_fast_encode()
_quote = json.encoder.encode_basestring  # the ensure_ascii=False string writer
_HTML_UNSAFE = ("<", ">", "&", "\u2028", "\u2029")


def go_float(value: float) -> str:
    """Format a float as Go's encoding/json does (ES6 style: exponent below 1e-6 or from 1e21)."""
    if not math.isfinite(value):
        raise NscValueError(f"cannot encode {value!r}: JSON has no NaN or infinity")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        mantissa, _, exponent = repr(value).partition("e")
        if not exponent:
            # repr chose positional form; ask for the shortest exponent form instead
            mantissa, _, exponent = f"{value:e}".partition("e")
        sign = exponent[0] if exponent[0] in "+-" else "+"
        return f"{mantissa}e{sign}{int(exponent.lstrip('+-'))}"
    from decimal import Decimal  # only generic claims hold floats; decimal costs start-up time

    return format(Decimal(repr(value)).normalize(), "f")


def _escape(text: str) -> str:
    for ch in _HTML_UNSAFE:
        if ch in text:
            text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text


def go_dumps(value: Any, *, floats: bool = False) -> str:
    """Compact Go-style JSON text; floats=True if value may hold floats (generic claims)."""
    text = _dumps_with_numbers(value) if floats else _FAST_ENCODE(value)
    return _escape(text)


def _dumps_with_numbers(value: Any) -> str:
    """A small recursive writer; only generic claims (arbitrary maps with floats) come here."""
    if isinstance(value, str):
        return _quote(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"map keys must be strings, got {type(key).__name__}")
            parts.append(f"{_quote(key)}:{_dumps_with_numbers(item)}")
        return "{" + ",".join(parts) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_dumps_with_numbers(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
