"""server_stub.websocket: the RFC 6455 handshake and framing, pure (hypothesis for the reader)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server_stub import websocket as ws
from server_stub.httpwire import HttpError, parse_head

MASK = b"\x01\x02\x03\x04"


def test_accept_key_rfc_example() -> None:
    assert ws.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def _request(**headers: str) -> bytes:
    base = {
        "Host": "h",
        "Upgrade": "websocket",
        "Connection": "keep-alive, Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    base.update(headers)
    lines = ["GET / HTTP/1.1"] + [f"{k}: {v}" for k, v in base.items() if v]
    return "\r\n".join(lines).encode()


def test_handshake_answers_101() -> None:
    answer = ws.handshake(parse_head(_request()))
    assert answer.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n" in answer


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Host": ""}, "'Host' missing"),
        ({"Upgrade": "h2c"}, "header 'Upgrade'"),
        ({"Connection": "close"}, "header 'Connection'"),
        ({"Sec-WebSocket-Key": ""}, "key missing"),
        ({"Sec-WebSocket-Key": "c2hvcnQ="}, "16 bytes"),
        ({"Sec-WebSocket-Version": "8"}, "invalid version"),
    ],
)
def test_bad_handshakes_are_400(headers: dict[str, str], message: str) -> None:
    with pytest.raises(HttpError, match=message) as info:
        ws.handshake(parse_head(_request(**headers)))
    assert info.value.status == 400


@given(
    st.lists(st.binary(max_size=70_000), min_size=1, max_size=4),
    st.binary(min_size=4, max_size=4),
    st.lists(st.integers(min_value=1), max_size=6),
)
def test_frames_split_anywhere_give_the_payloads_back(
    payloads: list[bytes], mask: bytes, cuts: list[int]
) -> None:
    stream = b"".join(ws.mask_frame(p, mask) for p in payloads)
    reader = ws.FrameReader()
    got = b""
    start = 0
    for point in sorted({c % (len(stream) + 1) for c in cuts}) + [len(stream)]:
        for event in reader.receive(stream[start:point]):
            assert isinstance(event, ws.Data)
            got += event.payload
        start = point
    assert got == b"".join(payloads)


def test_fragmented_message_with_a_ping_between() -> None:
    stream = (
        ws.mask_frame(b"PUB a 2\r\n", MASK, ws.TEXT, fin=False)
        + ws.mask_frame(b"hi", MASK, ws.PING)
        + ws.mask_frame(b"hi\r\n", MASK, ws.CONTINUATION)
    )
    events = ws.FrameReader().receive(stream)
    assert events == [ws.Data(b"PUB a 2\r\n"), ws.Ping(b"hi"), ws.Data(b"hi\r\n")]


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (ws.frame(b"unmasked"), "not masked"),
        (bytes([0xC2, 0x80]) + MASK, "RSV bits"),
        (bytes([0x83, 0x80]) + MASK, "unknown opcode"),
        (ws.mask_frame(b"x" * 126, MASK, ws.PING), "over 125 bytes"),
        (ws.mask_frame(b"x", MASK, ws.PING, fin=False), "fragmented"),
        (ws.mask_frame(b"x", MASK, ws.CONTINUATION), "continuation frame without"),
        (
            ws.mask_frame(b"x", MASK, ws.BINARY, fin=False) + ws.mask_frame(b"y", MASK),
            "new message before",
        ),
    ],
)
def test_protocol_errors(stream: bytes, message: str) -> None:
    with pytest.raises(ws.WebSocketError, match=message) as info:
        ws.FrameReader().receive(stream)
    assert info.value.status == ws.PROTOCOL_ERROR


def test_close_frames() -> None:
    reader = ws.FrameReader()
    close = ws.mask_frame(b"\x03\xe8bye", MASK, ws.CLOSE)
    assert reader.receive(close + ws.mask_frame(b"ignored", MASK)) == [ws.Close(1000, "bye")]
    assert reader.closed and reader.receive(b"more") == []
    assert ws.FrameReader().receive(ws.mask_frame(b"", MASK, ws.CLOSE)) == [ws.Close(1005, "")]
    bad = ws.mask_frame(b"\x03\xe8\xff", MASK, ws.CLOSE)
    assert ws.FrameReader().receive(bad) == [ws.Close(1007, "invalid utf8 body in close frame")]
    assert ws.close_frame(1005) == b"\x88\x00"
    assert ws.close_frame(1000, "x") == b"\x88\x03\x03\xe8x"


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536])
def test_server_frame_lengths(size: int) -> None:
    data = ws.frame(b"a" * size)
    reader = ws.FrameReader(require_mask=False)
    assert b"".join(e.payload for e in reader.receive(data) if isinstance(e, ws.Data)) == (
        b"a" * size
    )
