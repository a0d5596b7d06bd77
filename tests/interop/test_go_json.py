"""nscpy.gojson against the bytes Go's json.Marshal writes (the oracle's marshal mode).

Debian's Go is 1.19, which writes \\b and \\f as \\u0008 and \\u000c; Go 1.22 changed that to
\\b and \\f, which is what nscpy writes (nats-server and nsc are built with a current Go), so
those two characters are left out of the comparison here and covered by tests/test_gojson.py.
"""

from __future__ import annotations

import json
import random

import pytest

from nscpy.gojson import go_dumps

from .conftest import GoOracle

pytestmark = pytest.mark.e2e  # builds and runs the Go oracle

_SPECIAL = "<>&\u2028\u2029\"\\\n\r\t\x00\x01\x1f\x7f/'é€😀\ufffd"


def _strings() -> list[str]:
    rng = random.Random(20261130)
    alphabet = [*_SPECIAL, *(chr(c) for c in range(0x20)), "a", " ", "\u00a0", "\u2027", "\u202a"]
    alphabet = [ch for ch in alphabet if ch not in "\b\f"]
    out = [ch for ch in alphabet]
    for _ in range(300):
        size = rng.randrange(0, 12)
        out.append("".join(rng.choice(alphabet) for _ in range(size)))
    # any BMP character outside the surrogates, a few at a time
    for _ in range(200):
        chars = []
        for _ in range(rng.randrange(1, 6)):
            code = rng.randrange(0x20, 0xFFFF)
            if not 0xD800 <= code <= 0xDFFF:
                chars.append(chr(code))
        out.append("".join(chars))
    return out


def test_strings_match_go(go_oracle: GoOracle) -> None:
    strings = _strings()
    answers = go_oracle.marshal([json.dumps(s) for s in strings])
    mismatched = [
        (s, answer, go_dumps(s))
        for s, answer in zip(strings, answers, strict=True)
        if answer.get("json") != go_dumps(s)
    ]
    assert mismatched == []


def test_a_single_key_object_and_a_list_match_go(go_oracle: GoOracle) -> None:
    # Go sorts map keys; one key (or a list) keeps the comparison about escaping only
    values: list[object] = [{"<k&>": "v\u2028"}, ["a<b", "\u2029", "x&y"], {"s": "orders.>"}]
    answers = go_oracle.marshal([json.dumps(v) for v in values])
    assert [a.get("json") for a in answers] == [go_dumps(v) for v in values]
