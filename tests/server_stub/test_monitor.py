"""server_stub.monitor and server_stub.httpwire: pure, no sockets."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server_stub import httpwire, monitor
from server_stub import monitor_views as views
from server_stub.options import ServerOptions

REQUEST = (
    b"GET /connz?subs=1&limit=2 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nX-A: 1\r\nx-a: 2\r\n\r\n"
)


@given(st.lists(st.integers(min_value=1, max_value=len(REQUEST)), max_size=8))
def test_request_head_split_anywhere(cuts: list[int]) -> None:
    reader = httpwire.RequestReader()
    points = sorted(set(cuts)) + [len(REQUEST)]
    start, request = 0, None
    for point in points:
        got = reader.receive(REQUEST[start:point])
        start = point
        if got is not None:
            request = got
    assert request is not None
    assert request.method == "GET" and request.path == "/connz"
    assert request.query == {"subs": "1", "limit": "2"}
    assert request.headers["x-a"] == "1, 2"


@given(st.binary(max_size=300))
def test_garbage_is_an_http_error_or_waits(data: bytes) -> None:
    reader = httpwire.RequestReader()
    try:
        reader.receive(data + b"\r\n\r\n")
    except httpwire.HttpError as exc:
        assert exc.status in (400, 431)


def test_oversized_head_is_refused() -> None:
    with pytest.raises(httpwire.HttpError) as info:
        httpwire.RequestReader().receive(b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 4000)
    assert info.value.status == 431


def test_response_has_length_and_closes() -> None:
    raw = httpwire.response(200, b"{}")
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n") and raw.endswith(b"\r\n\r\n{}")
    assert b"Content-Length: 2\r\n" in raw and b"Connection: close\r\n" in raw


def test_timestamp_is_go_rfc3339nano() -> None:
    assert monitor.timestamp(0) == "1970-01-01T00:00:00Z"
    assert monitor.timestamp(1.5) == "1970-01-01T00:00:01.5Z"
    assert monitor.timestamp(1.123456789) == "1970-01-01T00:00:01.123456789Z"


def _view(conns: int = 3) -> views.ServerView:
    sub = views.SubView("$G", "a.>", None, "1", 4, 1)
    connections = [
        views.ConnView(
            cid,
            "127.0.0.1",
            1000 + cid,
            10.0 + cid,
            20.0,
            None,
            0,
            cid,
            0,
            0,
            0,
            f"c{cid}",
            "python3",
            "2",
            "$G",
            "",
            None,
            "nats",
            (sub,) if cid == 1 else (),
        )  # fmt: skip
        for cid in range(1, conns + 1)
    ]
    return views.ServerView(
        "NID", "n", "2.15.1", "python3.11", "127.0.0.1", 4222, "127.0.0.1", 8222, "",
        ServerOptions(), 0.0, False, False, "$SYS", connections, conns, [sub], [],
    )  # fmt: skip


def test_connz_pages_sorts_and_filters() -> None:
    view = _view()
    body = monitor.connz(view, {"offset": "1", "limit": "1"}, 100.0)
    assert [c["cid"] for c in body["connections"]] == [2]
    assert (body["num_connections"], body["total"], body["offset"], body["limit"]) == (1, 3, 1, 1)
    body = monitor.connz(view, {"sort": "msgs_from"}, 100.0)
    assert [c["cid"] for c in body["connections"]] == [3, 2, 1]
    body = monitor.connz(view, {"cid": "1", "subs": "detail"}, 100.0)
    assert body["connections"][0]["subscriptions_list_detail"] == [
        {"subject": "a.>", "sid": "1", "msgs": 4, "cid": 1}
    ]
    assert body["connections"][0]["uptime"] == "1m29s"


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/connz?state=closed", 400, "keeps no closed connections"),
        ("/connz?sort=rtt", 400, "sort option 'rtt'"),
        ("/connz?limit=x", 400, "Error decoding int for 'limit'"),
        ("/connz?filter_subject=a", 400, "does not implement connz option 'filter_subject'"),
        ("/jsz?streams=1", 400, "does not implement jsz option 'streams'"),
        ("/accountz?acc=NOPE", 400, "Account NOPE does not exist"),
        ("/leafz", 501, "does not implement /leafz"),
        ("/nothing", 404, "404 page not found"),
    ],
)
def test_refusals_say_why(path: str, status: int, text: str) -> None:
    request = httpwire.parse_head(f"GET {path} HTTP/1.1".encode())
    got_status, body = monitor.handle(request.path, request.query, _view(), 1.0)
    assert got_status == status and text in body.decode()


def test_json_is_go_style() -> None:
    text = monitor.to_json({"s": "a.>", "n": 1})
    assert text == b'{\n  "s": "a.\\u003e",\n  "n": 1\n}'
    assert json.loads(text) == {"s": "a.>", "n": 1}
