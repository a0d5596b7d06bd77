"""The sans-I/O parser: framing, limits, nats-server's error texts, and hypothesis round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nscpy.gojson import go_dumps as go_json
from server_stub import errors
from server_stub.encoding import encode_client, encode_hmsg, encode_msg, msg_heads
from server_stub.errors import ProtocolError
from server_stub.events import Connect, Err, HMsg, HPub, Info, Msg, Ok, Ping, Pong, Pub, Sub, Unsub
from server_stub.protocol import NEED_DATA, ServerConnection, split_body


def drain(conn: ServerConnection) -> list[object]:
    out: list[object] = []
    while (event := conn.next_event()) is not NEED_DATA:
        out.append(event)
    return out


def parse(data: bytes, **kw: int) -> list[object]:
    conn = ServerConnection(**kw)
    conn.receive_data(data)
    return drain(conn)


def test_basic_ops() -> None:
    data = (
        b'CONNECT {"verbose":false,"headers":true}\r\n'
        b"SUB foo.* q 1\r\nSUB bar 2\r\nPUB foo.x r 5\r\nhello\r\n"
        b"HPUB bar 12 14\r\nNATS/1.0\r\n\r\nhi\r\nUNSUB 1 5\r\nUNSUB 2\r\nPING\r\nPONG\r\n"
    )
    assert parse(data) == [
        Connect({"verbose": False, "headers": True}),
        Sub("foo.*", "q", "1"),
        Sub("bar", None, "2"),
        Pub("foo.x", "r", b"hello"),
        HPub("bar", None, b"NATS/1.0\r\n\r\n", b"hi"),
        Unsub("1", 5),
        Unsub("2"),
        Ping(),
        Pong(),
    ]


def test_receive_data_copies_a_reused_read_buffer() -> None:
    # The server reads every socket into one shared buffer (Inbound.get_buffer) and hands the
    # parser a view of it: the next read overwrites it, so the parser must have copied it.
    shared = bytearray(64)
    view = memoryview(shared)
    first = b"PUB a 5\r\nhel"
    view[: len(first)] = first
    conn = ServerConnection()
    conn.receive_data(view[: len(first)])
    second = b"lo\r\nPING\r\n"
    view[: len(first)] = b"#" * len(first)  # what the next read leaves there
    view[: len(second)] = second
    conn.receive_data(view[: len(second)])
    assert drain(conn) == [Pub("a", None, b"hello"), Ping()]


def test_lenient_forms_nats_server_accepts() -> None:
    # lower case, tabs, runs of spaces, bare LF, and PING followed by junk are all accepted
    data = b"connect {}\nsub\ta   1\r\npub  a 2\r\nhi\r\nPINGX\r\nINFO {}\r\n+OK\r\nping\n"
    assert parse(data) == [Connect({}), Sub("a", None, "1"), Pub("a", None, b"hi"), Ping(), Ping()]


@pytest.mark.parametrize(
    ("data", "err"),
    [
        (b"FOO BAR\r\n", errors.UNKNOWN_PROTOCOL),
        (b"\r\n", errors.UNKNOWN_PROTOCOL),
        (b" PING\r\n", errors.UNKNOWN_PROTOCOL),
        (b"UNSUB\r\n", errors.UNKNOWN_PROTOCOL),
        (b"MSG a 1 0\r\n\r\n", errors.UNKNOWN_PROTOCOL),
        (b"PUB a 2\r\nhiXX\r\n", errors.UNKNOWN_PROTOCOL),
        (b"PUB a 2000000\r\n", errors.MAX_PAYLOAD),
        (b"PUB " + b"a" * 5000 + b" 1\r\n", errors.MAX_CONTROL_LINE),
        (b"PUB " + b"a" * 5000, errors.MAX_CONTROL_LINE),
        (b"PUB a\r\n", None),
        (b"PUB a -1\r\n", None),
        (b"PUB a 1_0\r\n", None),
        (b"SUB a\r\n", None),
        (b"UNSUB 1 2 3\r\n", None),
        (b"CONNECT {xx\r\n", None),
        (b"CONNECT []\r\n", None),
        (b"CONNECT\r\n", None),
        (b"HPUB a 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", None),  # headers not enabled
        (b"-ERR 'x'\r\n", None),
    ],
)
def test_errors_match_nats_server(data: bytes, err: str | None) -> None:
    conn = ServerConnection()
    conn.receive_data(data)
    with pytest.raises(ProtocolError) as info:
        drain(conn)
    assert info.value.err == err
    with pytest.raises(ProtocolError):  # the connection stays dead
        conn.next_event()


def test_hpub_header_size_larger_than_total() -> None:
    conn = ServerConnection()
    conn.receive_data(b'CONNECT {"headers":true}\r\nHPUB a 14 12\r\n')
    with pytest.raises(ProtocolError):
        drain(conn)


def test_send_server_events() -> None:
    conn = ServerConnection()
    assert conn.send(Msg("a", "1", None, b"hi")) == b"MSG a 1 2\r\nhi\r\n"
    assert conn.send(Msg("a", "1", "r", b"")) == b"MSG a 1 r 0\r\n\r\n"
    assert conn.send(Msg("_R.x", "1", "", b"x")) == b"MSG _R.x 1  1\r\nx\r\n"
    hdr = b"NATS/1.0 503\r\nNats-Subject: x\r\n\r\n"
    assert conn.send(HMsg("r", "1", None, hdr, b"")) == b"HMSG r 1 33 33\r\n" + hdr + b"\r\n"
    assert conn.send(Err("Invalid Subject")) == b"-ERR 'Invalid Subject'\r\n"
    assert conn.send(Ok()) == b"+OK\r\n"
    assert conn.send(Ping()) == b"PING\r\n"
    assert conn.send(Pong()) == b"PONG\r\n"
    assert conn.send(Info({"a": "x>y", "b": 1})) == b'INFO {"a":"x\\u003ey","b":1} \r\n'
    assert go_json({"s": "orders.>&<"}) == '{"s":"orders.\\u003e\\u0026\\u003c"}'


def test_err_quotes_like_go() -> None:
    assert errors.pub_violation("billing.invoice") == (
        'Permissions Violation for Publish to "billing.invoice"'
    )
    assert errors.sub_violation("secret.q", "workers") == (
        'Permissions Violation for Subscription to "secret.q" using queue "workers"'
    )


# --- hypothesis -----------------------------------------------------------------------------

token = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters="."),
    min_size=1,
    max_size=8,
)
subject = st.lists(token, min_size=1, max_size=4).map(".".join)
payload = st.binary(max_size=64)
sid = st.integers(min_value=1, max_value=10**6).map(str)
client_event = st.one_of(
    st.builds(Pub, subject, st.none() | subject, payload),
    st.builds(HPub, subject, st.none() | subject, st.just(b"NATS/1.0\r\nA: b\r\n\r\n"), payload),
    st.builds(Sub, subject, st.none() | token, sid),
    st.builds(Unsub, sid, st.none() | st.integers(min_value=0, max_value=1000)),
    st.just(Ping()),
    st.just(Pong()),
)
stream = st.lists(client_event, max_size=20).map(lambda evs: [Connect({"headers": True}), *evs])


@settings(max_examples=150, deadline=None)
@given(events=stream, data=st.data())
def test_whole_bytewise_and_random_splits_agree(events: list[object], data: st.DataObject) -> None:
    wire_bytes = b"".join(encode_client(e) for e in events)  # type: ignore[arg-type]
    assert parse(wire_bytes) == events

    conn = ServerConnection()
    got: list[object] = []
    for i in range(len(wire_bytes)):
        conn.receive_data(wire_bytes[i : i + 1])
        got.extend(drain(conn))
    assert got == events

    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire_bytes)), max_size=8)))
    conn = ServerConnection()
    got = []
    start = 0
    for cut in [*cuts, len(wire_bytes)]:
        conn.receive_data(wire_bytes[start:cut])
        start = max(start, cut)
        got.extend(drain(conn))
    assert got == events


@settings(max_examples=300, deadline=None)
@given(garbage=st.binary(max_size=300), prefix=st.booleans())
def test_garbage_only_raises_protocol_error(garbage: bytes, prefix: bool) -> None:
    conn = ServerConnection(max_payload=128, max_control_line=64)
    conn.receive_data((b'CONNECT {"headers":true}\r\n' if prefix else b"") + garbage)
    try:
        drain(conn)
    except ProtocolError as exc:
        assert exc.err is None or isinstance(exc.err, str)


@settings(max_examples=100, deadline=None)
@given(
    lines=st.lists(
        st.sampled_from(
            [b"PUB", b"HPUB", b"SUB", b"UNSUB", b"CONNECT", b"PING", b"-ERR", b"x"]
        ).flatmap(lambda op: st.binary(max_size=20).map(lambda rest: op + b" " + rest + b"\r\n")),
        max_size=10,
    )
)
def test_op_shaped_garbage_only_raises_protocol_error(lines: list[bytes]) -> None:
    conn = ServerConnection(max_payload=128)
    conn.receive_data(b'CONNECT {"headers":true}\r\n' + b"".join(lines))
    try:
        drain(conn)
    except ProtocolError:
        pass


def test_connect_type_errors_never_echo_the_value() -> None:
    seed = "SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTC4"
    conn = ServerConnection()
    conn.receive_data(b'CONNECT {"pass":["' + seed.encode() + b'"]}\r\n')
    with pytest.raises(ProtocolError) as info:
        conn.next_event()
    assert info.value.err is None  # nats-server closes without an -ERR
    assert seed not in str(info.value) and "'pass' must be a string" in str(info.value)


# --- the PUB/HPUB fast path (read_pubs) agrees with next_event ------------------------------


def drain_fast(
    conn: ServerConnection, stop_after: int = 0, out: list[object] | None = None
) -> tuple[list[object], int]:
    """Events via read_pubs wherever it takes them, next_event for the rest; (events, how many
    came through read_pubs). `stop_after` > 0: the handler asks to stop after that many."""
    out = [] if out is None else out
    fast = 0

    def handle(subject: str, reply: str | None, hdr: int, total: int, tail: bytes) -> bool:
        nonlocal fast
        fast += 1
        headers, payload = split_body(tail, hdr, total)
        out.append(Pub(subject, reply, payload) if headers is None else
                   HPub(subject, reply, headers, payload))  # fmt: skip
        return not stop_after or fast % stop_after != 0

    while True:
        if conn.read_pubs(handle):  # the buffer is empty: next_event must agree
            assert conn.next_event() is NEED_DATA
            return out, fast
        event = conn.next_event()
        if event is NEED_DATA:
            return out, fast
        out.append(event)


def outcome(conn: ServerConnection, fast: bool) -> tuple[list[object], str | None]:
    """Events until NEED_DATA or the ProtocolError (its text and -ERR)."""
    events: list[object] = []
    try:
        if fast:
            drain_fast(conn, stop_after=3, out=events)
        else:
            while (event := conn.next_event()) is not NEED_DATA:
                events.append(event)
    except ProtocolError as exc:
        return events, f"{exc} / {exc.err}"
    return events, None


def test_fast_path_takes_canonical_pubs_and_leaves_the_rest() -> None:
    conn = ServerConnection()
    conn.receive_data(
        b'CONNECT {"headers":true}\r\nPUB a 2\r\nhi\r\nPUB a r 0\r\n\r\n'
        b"HPUB h 12 14\r\nNATS/1.0\r\n\r\nok\r\npub a 1\r\nx\r\nPUB\ta 1\r\ny\r\nPING\r\n"
    )
    events, fast = drain_fast(conn)
    assert fast == 3  # the lower-case and tab forms went through next_event
    assert events[1:] == [
        Pub("a", None, b"hi"),
        Pub("a", "r", b""),
        HPub("h", None, b"NATS/1.0\r\n\r\n", b"ok"),
        Pub("a", None, b"x"),
        Pub("a", None, b"y"),
        Ping(),
    ]


def test_fast_path_leaves_errors_to_next_event() -> None:
    hello = b'CONNECT {"headers":true}\r\n'
    for data, err in [
        (b"HPUB a 2 4\r\nxxxx\r\n", None),  # headers not enabled
        (hello + b"HPUB a 4 2\r\nxx\r\n", None),  # header size past the total
        (b"PUB a 1001\r\n" + b"x" * 1001 + b"\r\n", errors.MAX_PAYLOAD),
        (b"PUB a 2\r\nxxx\r\n", errors.UNKNOWN_PROTOCOL),  # no CRLF after the payload
    ]:
        conn = ServerConnection(max_payload=1000)
        conn.receive_data(data)
        with pytest.raises(ProtocolError) as info:
            drain_fast(conn)
        assert info.value.err == err


@settings(max_examples=150, deadline=None)
@given(events=stream, data=st.data())
def test_fast_path_whole_bytewise_and_random_splits(
    events: list[object], data: st.DataObject
) -> None:
    wire_bytes = b"".join(encode_client(e) for e in events)  # type: ignore[arg-type]
    conn = ServerConnection()
    conn.receive_data(wire_bytes)
    stop_after = data.draw(st.integers(0, 3))
    got, fast = drain_fast(conn, stop_after=stop_after)
    assert got == events
    if not stop_after:  # nothing canonical is left to next_event
        assert fast == sum(isinstance(e, Pub | HPub) for e in events)

    conn = ServerConnection()
    got = []
    for i in range(len(wire_bytes)):
        conn.receive_data(wire_bytes[i : i + 1])
        got.extend(drain_fast(conn)[0])
    assert got == events

    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire_bytes)), max_size=8)))
    conn = ServerConnection()
    got = []
    start = 0
    for cut in [*cuts, len(wire_bytes)]:
        conn.receive_data(wire_bytes[start:cut])
        start = max(start, cut)
        got.extend(drain_fast(conn)[0])
    assert got == events


# runs of the same few lines (a publisher's usual traffic), with payloads that differ
three = st.binary(min_size=3, max_size=3)
repeated_pub = st.one_of(
    st.builds(Pub, st.sampled_from(["a", "a.b"]), st.sampled_from([None, "r"]), three),
    st.builds(Pub, st.just("a"), st.none(), st.binary(min_size=30, max_size=30)),
    st.builds(HPub, st.just("a"), st.none(), st.just(b"NATS/1.0\r\n\r\n"), three),
    st.just(Ping()),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(events=st.lists(repeated_pub, max_size=30), data=st.data())
def test_fast_path_reads_runs_of_the_same_line_as_next_event(
    events: list[object], data: st.DataObject
) -> None:
    events = [Connect({"headers": True}), *events]
    wire_bytes = b"".join(encode_client(e) for e in events)  # type: ignore[arg-type]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire_bytes)), max_size=8)))
    stop_after = data.draw(st.integers(0, 3))
    conn = ServerConnection()
    got: list[object] = []
    start = 0
    for cut in [*cuts, len(wire_bytes)]:
        conn.receive_data(wire_bytes[start:cut])
        start = max(start, cut)
        got.extend(drain_fast(conn, stop_after=stop_after)[0])
    assert got == events


_PUB_PIECES = [
    b"PUB ", b"HPUB ", b"pub ", b"PUB\t", b"a", b"b.c", b" ", b"  ", b"\t", b"\r", b"\n",
    b"\r\n", b"0", b"3", b"12", b"1234567890", b"xyz", b"PING\r\n", b"SUB a 1\r\n",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(_PUB_PIECES), max_size=40),
    headers=st.booleans(),
    max_control_line=st.sampled_from([8, 4096]),
)
def test_fast_path_agrees_with_next_event_on_near_pubs(
    pieces: list[bytes], headers: bool, max_control_line: int
) -> None:
    data = (b'CONNECT {"headers":true}\r\n' if headers else b"") + b"".join(pieces)
    results = []
    for fast in (False, True):
        conn = ServerConnection(max_payload=3, max_control_line=max_control_line)
        conn.receive_data(data)
        results.append(outcome(conn, fast))
    assert results[0] == results[1]


def parse_reads(reads: list[bytes]) -> list[object]:
    """Events for bytes arriving in these reads, parsed after each read as the server does."""
    conn = ServerConnection()
    out: list[object] = []
    for data in reads:
        conn.receive_data(data)
        out += drain(conn)
    return out


def test_a_read_that_ends_after_a_cr_in_the_arguments_joins_them_as_nats_server_does() -> None:
    # nats-server keeps the arguments a read ended in (argBuf) minus a trailing CR, then appends
    # every later byte but CR: "SUB x\r" + "PING\r\n" is one argument, "xPING" (no sid)
    with pytest.raises(ProtocolError):
        parse_reads([b"SUB x\r", b"PING\r\n"])
    assert parse_reads([b"SUB x\rPING\r\n"]) == [Sub("x", None, "PING")]  # one read: two fields
    assert parse_reads([b"SUB a 1\r", b"\n"]) == [Sub("a", None, "1")]
    assert parse_reads([b"SUB a 1", b"\r\n"]) == [Sub("a", None, "1")]
    assert parse_reads([b"PUB a 5\r", b"\nhello\r\n"]) == [Pub("a", None, b"hello")]
    assert parse_reads([b"PUB a ", b"5", b"\r", b"\nhello\r\nPING\r\n"]) == [
        Pub("a", None, b"hello"),
        Ping(),
    ]


@given(cut=st.integers(min_value=0, max_value=40))
def test_a_canonical_line_reads_the_same_however_it_is_split(cut: int) -> None:
    data = b"SUB foo.* q 1\r\nPUB foo.x r 5\r\nhello\r\nUNSUB 1\r\n"
    cut = min(cut, len(data))
    assert parse_reads([data[:cut], data[cut:]]) == parse_reads([data])


def test_fast_path_keeps_few_short_reply_less_lines() -> None:
    conn = ServerConnection()
    data = b"".join(b"PUB s.%d 1\r\nx\r\n" % i for i in range(1000))
    data += b"PUB s r 1\r\nx\r\n" + b"PUB " + b"s" * 300 + b" 1\r\nx\r\n"
    conn.receive_data(data)
    events, fast = drain_fast(conn)
    assert fast == len(events) == 1002
    kept = conn._lines
    assert 0 < len(kept) <= 128
    assert all(b" r " not in line and len(line) <= 256 for line in kept)


_TOKEN = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)


@settings(max_examples=300)
@given(
    subject=_TOKEN,
    sid=_TOKEN,
    reply=st.none() | _TOKEN,
    headers=st.none() | st.binary(max_size=40),
    payload=st.binary(max_size=200),
)
def test_a_direct_delivery_is_the_encoders_msg(subject, sid, reply, headers, payload) -> None:
    """What the direct path sends (a msg_heads head, the reply, the PUB's tail as read_pubs
    gives it) is byte for byte what encode_msg/encode_hmsg make."""
    conn = ServerConnection()
    conn.headers = True
    if headers is None:
        op = b"PUB %s %d\r\n%s\r\n" % (subject.encode(), len(payload), payload)
    else:
        total = len(headers) + len(payload)
        op = b"HPUB %s %d %d\r\n%s%s\r\n" % (
            subject.encode(),
            len(headers),
            total,
            headers,
            payload,
        )
    conn.receive_data(op)
    tails: list[bytes] = []
    conn.read_pubs(lambda s, r, hdr, total, tail: tails.append(tail) or True)
    msg_head, hmsg_head = msg_heads(subject.encode(), sid.encode())
    end = tails[0] if reply is None else reply.encode() + b" " + tails[0]
    if headers is None:
        assert msg_head + end == encode_msg(subject.encode(), sid.encode(), reply, payload)
    else:
        want = encode_hmsg(subject.encode(), sid.encode(), reply, headers, payload)
        assert hmsg_head + end == want
