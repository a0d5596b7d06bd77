"""Bounded fuzzing of the sans-I/O parser: any bytes, fed whole, byte by byte or split at random
points, give the same events and the same verdict, and nothing but ProtocolError is raised.

`make fuzz-stub` runs the same properties with many more examples (NSCPY_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from server_stub.connect_options import client_options
from server_stub.errors import ProtocolError
from server_stub.events import Connect
from server_stub.headers import build_headers, parse_headers
from server_stub.protocol import NEED_DATA, ServerConnection

EXAMPLES = int(os.environ.get("NSCPY_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIMITS = {"max_payload": 128, "max_control_line": 48}

# Pieces that reach the parser's corners: every op and its lower-case form, separators, sizes
# at and past the limits, CR/LF in odd places, JSON fragments.
piece = st.sampled_from(
    [
        b"PUB ", b"HPUB ", b"SUB ", b"UNSUB ", b"CONNECT ", b"INFO ", b"PING", b"PONG", b"+OK",
        b"-ERR ", b"MSG ", b"pub ", b"sub ", b"a", b"a.b", b"*", b">", b" ", b"\t", b"\r", b"\n",
        b"\r\n", b"0", b"1", b"2", b"12", b"128", b"129", b"999999999", b"1000000000", b"-1",
        b"{}", b'{"headers":true}', b'{"verbose":"x"}', b"null", b"[", b"NATS/1.0\r\n\r\n",
        b"x" * 47, b"x" * 49, b"\x00", b"\xff", "ä".encode(),
    ]
)  # fmt: skip
op_soup = st.lists(piece | st.binary(max_size=6), max_size=40).map(b"".join)
any_bytes = st.binary(max_size=300) | op_soup


def _outcome(chunks: list[bytes]) -> tuple[list[object], str | None]:
    """Events until the first error, and the verdict: "open", or the -ERR text / "close"."""
    conn = ServerConnection(**LIMITS)
    events: list[object] = []
    for chunk in chunks:
        conn.receive_data(chunk)
        try:
            while (event := conn.next_event()) is not NEED_DATA:
                events.append(event)
        except ProtocolError as exc:
            return events, exc.err or "close"
    return events, "open"


@FUZZ
@given(data=any_bytes, cuts=st.lists(st.integers(0, 300), max_size=10))
# found by `make fuzz-stub`: a line one byte over the limit was refused only when read in pieces
@example(data=b"\x00" * 49 + b"\n", cuts=[])
def test_same_events_and_verdict_however_the_bytes_arrive(data: bytes, cuts: list[int]) -> None:
    whole = _outcome([data])
    assert _outcome([data[i : i + 1] for i in range(len(data))]) == whole
    points = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    assert _outcome([data[a:b] for a, b in zip(points, points[1:], strict=False)]) == whole


@FUZZ
@given(prefix=st.booleans(), data=any_bytes)
def test_after_an_error_the_connection_stays_dead(prefix: bool, data: bytes) -> None:
    conn = ServerConnection(**LIMITS)
    conn.receive_data((b'CONNECT {"headers":true}\r\n' if prefix else b"") + data)
    try:
        while conn.next_event() is not NEED_DATA:
            pass
    except ProtocolError as first:
        conn.receive_data(b"PING\r\n")
        try:
            conn.next_event()
        except ProtocolError as again:
            assert again is first
        else:
            raise AssertionError("a dead connection parsed another operation")


json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
connect_field = st.sampled_from(
    ["verbose", "Verbose", "pedantic", "echo", "headers", "no_responders", "protocol", "user",
     "pass", "auth_token", "jwt", "sig", "nkey", "name", "lang", "import", "other"]
)  # fmt: skip
TYPES = {"protocol": int, "import": dict}


@FUZZ
@given(fields=st.dictionaries(connect_field, json_value, max_size=6))
def test_connect_fields_are_typed_or_refused(fields: dict[str, Any]) -> None:
    conn = ServerConnection()
    conn.receive_data(b"CONNECT " + json.dumps(fields).encode() + b"\r\n")
    try:
        event = conn.next_event()
    except ProtocolError as exc:
        assert exc.err is None  # nats-server closes without an -ERR
        return
    assert isinstance(event, Connect)
    assert event.options == client_options(fields)
    for key, value in event.options.items():
        if key == "other":
            continue
        want = TYPES.get(key, bool if key in {"verbose", "pedantic", "echo"} else object)
        if key in {"headers", "no_responders"}:
            want = bool
        if key in {"user", "pass", "auth_token", "jwt", "sig", "nkey", "name", "lang"}:
            want = str
        assert type(value) is want, (key, value)


header_key = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters=":"),
    min_size=1,
    max_size=8,
).filter(lambda k: k not in ("Status", "Description"))
header_value = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12
).map(str.strip)


@FUZZ
@given(block=st.binary(max_size=200), headers=st.dictionaries(header_key, header_value))
def test_header_blocks_parse_without_raising_and_round_trip(
    block: bytes, headers: dict[str, str]
) -> None:
    # an HPUB's header block reaches internal services (JetStream, the resolver) as a dict
    assert isinstance(parse_headers(block), dict)
    assert parse_headers(build_headers(headers)) == headers
