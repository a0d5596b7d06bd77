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
    # replies to request inboxes: each inbox is new, delivered on its parent's match
    "replies_to_inboxes": [
        QUIET, b"SUB _INBOX.p.* 1\r\n", b"SUB _INBOX.> 2\r\n", b"SUB _INBOX.p.3 q 3\r\n",
        b"PUB _INBOX.p.1 2\r\nhi\r\nPUB _INBOX.p.2 x.1 2\r\nhi\r\n",
        b"HPUB _INBOX.p.3 12 14\r\nNATS/1.0\r\n\r\nhi\r\nPUB _INBOX.p.4 0\r\n\r\n",
        b"UNSUB 1\r\n", b"PUB _INBOX.p.5 2\r\nhi\r\nPUB _INBOX.q 1\r\nx\r\n",
        b"PUB _INBOX.p..x 1\r\nx\r\nPUB _INBOX.* 1\r\nx\r\nPUB _INBOX.p.6 1\r\ny\r\n",
    ],
    "inbox_replies_echo_off_and_no_responders": [
        b'CONNECT {"verbose":false,"echo":false,"headers":true,"no_responders":true}\r\n',
        b"SUB _INBOX.p.* 1\r\n", b"SUB r.* 2\r\n",
        b"PUB _INBOX.p.1 r.1 0\r\n\r\nPUB _INBOX.z.1 r.2 0\r\n\r\n",
    ],
    "inbox_replies_verbose": [
        b'CONNECT {"verbose":true}\r\n', b"SUB _INBOX.p.* 1\r\n",
        b"PUB _INBOX.p.1 1\r\nx\r\nPUB _INBOX.p.2 1\r\nx\r\n",
    ],
    # a queue group of one is deterministic: whatever its member refuses reaches nobody
    "queue_member_unsubscribes_mid_stream": [
        QUIET, b"SUB a q 1\r\n", PUB_A * 3, b"UNSUB 1\r\n", PUB_A * 2, b"SUB a q 2\r\n",
        PUB_A * 2 + HPUB_A * 2,
    ],
    "queue_member_with_unsub_maximum": [
        QUIET, b"SUB a q 1\r\n", PUB_A * 2, b"UNSUB 1 4\r\n", PUB_A * 3, PUB_A,
    ],
    "queue_member_is_the_publisher_with_echo_off": [
        b'CONNECT {"verbose":false,"echo":false}\r\n', b"SUB a q 1\r\n", b"SUB a 2\r\n",
        PUB_A * 3,
    ],
    "queue_groups_with_replies_and_wildcards": [
        QUIET, b"SUB a.* q 1\r\n", b"SUB a.b r 2\r\n", b"SUB > s 3\r\n",
        b"PUB a.b x.1 1\r\nx\r\n" * 3, b"HPUB a.b _INBOX.y.1 12 13\r\nNATS/1.0\r\n\r\ny\r\n" * 2,
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
    "queue_member_without_headers_gets_msg": (
        [_connect("plain", False), b"SUB a q 1\r\n"],
        [_connect("pub", True), HPUB_A, HPUB_A * 3, PUB_A],
    ),
    "queue_member_with_a_delivery_deny_list": (
        [_connect("filtered", True), b"SUB a.* q 1\r\n"],
        [_connect("pub", True), b"PUB a.x 1\r\nx\r\n" * 3, b"PUB a.y 1\r\ny\r\n" * 3],
    ),
}  # fmt: skip


async def _two_clients(url: str, sub_chunks: list[bytes], pub_chunks: list[bytes]) -> bytes:
    """The subscriber subscribes (and its PONG proves it), the publisher publishes (its PONG
    proves the messages were routed), then what the subscriber received up to a PONG."""
    outputs = await _clients(url, 2, [(0, sub_chunks), (1, pub_chunks)])
    return outputs[0]


async def _clients(url: str, count: int, steps: list[tuple[int, list[bytes]]]) -> list[bytes]:
    """`count` connections; each step sends its chunks on one of them and waits for its PONG
    (so the server has handled them before the next step), then what each connection
    received, up to a last PONG."""
    host, port = url.removeprefix("nats://").rsplit(":", 1)
    streams = [await asyncio.open_connection(host, int(port)) for _ in range(count)]
    outputs = [b""] * count
    try:
        for reader, _ in streams:
            assert (await reader.readline()).startswith(b"INFO ")
        for index, chunks in [*steps, *((i, []) for i in range(count))]:
            reader, writer = streams[index]
            seen = outputs[index]
            outputs[index] = await _send_and_read(
                reader, writer, chunks, seen, 0.15, 3.0, pong_after=seen
            )
        # the server's own PINGs come on a timer, not from what was sent
        return [_no_info(out).replace(b"\r\nPING\r\n", b"\r\n") for out in outputs]
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


PUB_AX = b"PUB a.x 1\r\nx\r\n"


def test_queue_member_that_refuses_is_skipped_as_nats_server_skips_it(tmp_path: Path) -> None:
    """A group of a filtered member (its deny list bars a.x) and a plain one on two
    connections: every a.x goes to the plain member whichever is picked first; after the
    plain member unsubscribes, a.x reaches nobody and a.y the filtered one."""
    conf = tmp_path / "users.conf"
    conf.write_text(CONF)
    steps = [
        (0, [_connect("filtered", True), b"SUB a.* q 1\r\n"]),
        (1, [_connect("plain", True), b"SUB a.* q 5\r\n"]),
        (2, [_connect("pub", True), PUB_AX * 4, PUB_AX * 2]),
        (1, [b"UNSUB 5\r\n"]),
        (2, [PUB_AX * 3, b"PUB a.y 1\r\ny\r\n" * 2]),
    ]
    outputs = []
    for kind in ("nats-server", "stub"):
        with server(kind, conf) as url:
            outputs.append(run(_clients(url, 3, steps)))
    want, got = outputs
    assert got == want
    assert got[1].count(b"MSG a.x 5 1\r\nx\r\n") == 6
    assert got[0].count(b"MSG a.y 1 1\r\ny\r\n") == 2 and b"a.x" not in got[0]


@pytest.mark.parametrize("kind", ["nats-server", "stub"])
def test_queue_group_gives_each_message_to_one_member(kind: str) -> None:
    """Four members on two connections (and a plain subscription beside them), 400 messages in
    a few reads: the plain one gets all 400, the group each message once, every member some
    (a member left out of 400 random picks: (3/4)^400), and one member unsubscribing mid-stream
    gets nothing more. Checked on nats-server too, so the test says what it expects."""
    members = [b"SUB a q 1\r\n", b"SUB a q 2\r\n"]
    steps = [
        (0, [QUIET, *members]),
        (1, [QUIET, b"SUB a q 3\r\nSUB a q 4\r\nSUB a 9\r\n"]),
        (2, [QUIET, PUB_A * 150, PUB_A * 150, PUB_A * 100]),
        (0, [b"UNSUB 2\r\n"]),
        (2, [PUB_A * 100]),
    ]
    with server(kind, None) as url:
        first, second, _ = run(_clients(url, 3, steps))
    counts = {sid: (first + second).count(b"MSG a %d 2\r\nhi\r\n" % sid) for sid in (1, 2, 3, 4)}
    assert second.count(b"MSG a 9 2\r\nhi\r\n") == 500
    assert sum(counts.values()) == 500
    assert all(counts[sid] > 0 for sid in counts), counts
    # connection 0 read: PONG (its SUBs), messages, PONG (its UNSUB), then the last 100's share
    after_unsub = first.split(b"PONG\r\n")[2]
    assert b"MSG a 2 " not in after_unsub and b"MSG a 1 " in after_unsub
