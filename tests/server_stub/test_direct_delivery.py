"""The direct delivery path (Client._publish_raw) against nats-server, byte for byte.

The direct path takes a reply-less PUB/HPUB once its subject was let through and its match is
cached, so every case here publishes the same subject several times (the first message takes
the general path, the rest the direct one), also several in one read, and changes what the
direct path must notice between them: a new or removed subscription, an UNSUB maximum, echo,
a subscriber without headers or with a delivery deny list. (Two subscriptions on one subject
node are delivered in Go's map order by nats-server, so each case puts them on different ones.)
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from tests.server_stub.harness import _send_and_read, raw_sessions, run, server

pytestmark = pytest.mark.e2e

QUIET = b'CONNECT {"verbose":false,"headers":true}\r\n'
PUB_A = b"PUB a 2\r\nhi\r\n"
HPUB_A = b"HPUB a 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"
HPUB_AY = b"HPUB a.y 12 13\r\nNATS/1.0\r\n\r\ny\r\n"
BIG = b"PUB a 3000\r\n" + b"z" * 3000 + b"\r\n"

ONE_CONNECTION: dict[str, list[bytes]] = {
    "repeats_in_one_read_and_across_reads": [
        QUIET, b"SUB a 1\r\n", b"SUB * 2\r\n", b"SUB b 3\r\n",
        PUB_A * 3, HPUB_A * 2, b"PUB b 1\r\nx\r\n", PUB_A, HPUB_A,
    ],
    "echo_off": [b'CONNECT {"verbose":false,"echo":false}\r\n', b"SUB a 1\r\n", PUB_A * 3],
    "unsub_maximum_after_the_path_is_warm": [
        QUIET, b"SUB a 1\r\n", PUB_A * 2, b"UNSUB 1 4\r\n", PUB_A * 3, PUB_A,
    ],
    "subscriptions_come_and_go": [
        QUIET, b"SUB a 1\r\n", PUB_A * 2, b"SUB * 2\r\n", PUB_A * 2, b"UNSUB 1\r\n", PUB_A * 2,
        b"UNSUB 2\r\n", PUB_A * 2, b"SUB a 3\r\n", PUB_A,
    ],
    "wildcards": [
        QUIET, b"SUB a.* 1\r\n", b"SUB > 2\r\n", b"SUB a.b 3\r\n", b"PUB a.b 1\r\nx\r\n" * 3,
    ],
    "verbose_acknowledges_every_repeat": [
        b'CONNECT {"verbose":true}\r\n', b"SUB a 1\r\n", PUB_A * 3, PUB_A,
    ],
    "queue_groups_beside_plain_subscriptions": [
        QUIET, b"SUB a q 1\r\n", b"SUB * 2\r\n", b"SUB * r 3\r\n", PUB_A * 3, HPUB_A,
        b"UNSUB 1\r\n", PUB_A * 2,
    ],
    "replies": [
        QUIET, b"SUB a 1\r\n", b"SUB * 2\r\n", b"PUB a r.1 2\r\nhi\r\n" * 3,
        b"HPUB a r.2 12 14\r\nNATS/1.0\r\n\r\nhi\r\n" * 2, b"PUB a _INBOX.x.1 2\r\nhi\r\n",
    ],
    "no_responders_once_the_last_subscription_goes": [
        b'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\n',
        b"SUB r.* 1\r\n", b"SUB x 2\r\n", b"PUB x r.1 0\r\n\r\n" * 2, b"UNSUB 2\r\n",
        b"PUB x r.2 0\r\n\r\n" * 2, b"PUB x 0\r\n\r\n",
    ],
    "big_and_empty_payloads": [
        QUIET, b"SUB a 1\r\n", b"PUB a 0\r\n\r\n" * 2, BIG * 2,
    ],
}  # fmt: skip


def test_one_connection_matches_nats_server() -> None:
    reference = raw_sessions("nats-server", ONE_CONNECTION)
    got = raw_sessions("stub", ONE_CONNECTION)
    for name, want in reference.items():
        assert _no_info(got[name]) == _no_info(want), name
    assert _no_info(got["repeats_in_one_read_and_across_reads"]).count(b"MSG a 1 ") == 7


CONF = """
authorization {
  users = [
    {user: pub, password: pub}
    {user: plain, password: plain}
    {user: filtered, password: filtered, permissions: {subscribe: {allow: [">"], deny: ["a.x"]}}}
  ]
}
"""


def _connect(user: str, headers: bool) -> bytes:
    flag = "true" if headers else "false"
    options = f'"verbose":false,"user":"{user}","pass":"{user}","headers":{flag}'
    return b"CONNECT {" + options.encode() + b"}\r\n"


TWO_CONNECTIONS: dict[str, tuple[list[bytes], list[bytes]]] = {
    # (subscriber's chunks, publisher's chunks): what the subscriber receives is compared
    "subscriber_without_headers_gets_msg": (
        [_connect("plain", False), b"SUB a 1\r\n"],
        [_connect("pub", True), HPUB_A, HPUB_A * 3, PUB_A],
    ),
    "delivery_deny_list": (
        [_connect("filtered", True), b"SUB a.* 1\r\n"],
        [_connect("pub", True), b"PUB a.x 1\r\nx\r\n" * 3, b"PUB a.y 1\r\ny\r\n" * 3],
    ),
    "two_subscribers_one_filtered": (
        [_connect("filtered", True), b"SUB a.* 1\r\n", b"SUB > 2\r\n"],
        [_connect("pub", True), b"PUB a.x 1\r\nx\r\n" * 3, HPUB_AY * 2],
    ),
}  # fmt: skip


async def _two_clients(url: str, sub_chunks: list[bytes], pub_chunks: list[bytes]) -> bytes:
    """The subscriber subscribes (and its PONG proves it), the publisher publishes (its PONG
    proves the messages were routed), then what the subscriber received up to a PONG."""
    host, port = url.removeprefix("nats://").rsplit(":", 1)
    streams = [await asyncio.open_connection(host, int(port)) for _ in range(2)]
    try:
        for reader, _ in streams:
            assert (await reader.readline()).startswith(b"INFO ")
        (sub_r, sub_w), (pub_r, pub_w) = streams
        seen = await _send_and_read(sub_r, sub_w, sub_chunks, b"", 0.15, 3.0, pong_after=b"")
        await _send_and_read(pub_r, pub_w, pub_chunks, b"", 0.15, 3.0, pong_after=b"")
        return await _send_and_read(sub_r, sub_w, [], seen, 0.15, 3.0, pong_after=seen)
    finally:
        for _, writer in streams:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@pytest.mark.parametrize("name", sorted(TWO_CONNECTIONS))
def test_two_connections_match_nats_server(name: str, tmp_path: Path) -> None:
    conf = tmp_path / "users.conf"
    conf.write_text(CONF)
    sub_chunks, pub_chunks = TWO_CONNECTIONS[name]
    outputs = []
    for kind in ("nats-server", "stub"):
        with server(kind, conf) as url:
            outputs.append(_no_info(run(_two_clients(url, sub_chunks, pub_chunks))))
    want, got = outputs
    assert got == want
    assert b"MSG" in got


def _no_info(data: bytes) -> bytes:
    return b"".join(line for line in data.splitlines(True) if not line.startswith(b"INFO "))
