"""nscpy.gojson, the one Go encoding/json writer (tokens, the store, server_stub's INFO and API).

A reference model of Go's string escaping (encode.go, Go 1.22+) is checked against go_dumps
for any text; tests/interop/test_go_json.py compares with bytes a Go program writes.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nscpy.gojson import go_dumps

# Go escapes these even in strings that are otherwise plain (HTML safety, JSONP safety)
_GO_ALWAYS = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
# Go 1.22+ writes \b and \f short, as Python does (Go 1.19 wrote \u0008 and \u000c)
_GO_SHORT = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def go_string(text: str) -> str:
    """Go's encodeState.string with escapeHTML (json.Marshal), one character at a time."""
    out = ['"']
    for ch in text:
        if ch in _GO_SHORT:
            out.append(_GO_SHORT[ch])
        elif ch in _GO_ALWAYS:
            out.append(_GO_ALWAYS[ch])
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)  # everything else, DEL and non-ASCII included, is written as is
    out.append('"')
    return "".join(out)


# strings Go can hold: no lone surrogates (they are not UTF-8)
texts = st.text(st.characters(blacklist_categories=("Cs",)))
interesting = st.text(st.sampled_from(list('<>&\u2028\u2029"\\\n\r\t\b\f\x00\x1f\x7f aé€😀')))


@given(st.one_of(texts, interesting))
def test_strings_escape_as_go_does(text: str) -> None:
    assert go_dumps(text) == go_string(text)


@given(st.dictionaries(st.one_of(texts, interesting), st.one_of(texts, interesting), max_size=4))
def test_keys_and_values_escape_alike_and_keep_their_order(value: dict[str, str]) -> None:
    expected = "{" + ",".join(f"{go_string(k)}:{go_string(v)}" for k, v in value.items()) + "}"
    assert go_dumps(value) == expected
    assert go_dumps(value, floats=True) == expected


@given(st.lists(st.one_of(texts, interesting), max_size=5))
def test_output_reads_back_as_the_same_value(value: list[str]) -> None:
    text = go_dumps(value)
    assert json.loads(text) == value
    assert not any(ch in text for ch in _GO_ALWAYS)  # only ever escaped


def test_known_answers() -> None:
    assert go_dumps({"s": "orders.>&<"}) == '{"s":"orders.\\u003e\\u0026\\u003c"}'
    assert go_dumps("\u2028\u2029") == '"\\u2028\\u2029"'
    assert go_dumps([1, True, None, "é"]) == '[1,true,null,"é"]'
    assert go_dumps({"f": 1e-7, "g": 1e21, "h": 2.5}, floats=True) == '{"f":1e-7,"g":1e+21,"h":2.5}'


def test_values_json_cannot_hold_are_refused() -> None:
    with pytest.raises(TypeError):
        go_dumps({"x": object()})
    with pytest.raises(ValueError):
        go_dumps({"x": float("nan")})
