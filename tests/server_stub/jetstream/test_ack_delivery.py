"""JetStream acks reach the publisher's inbox byte for byte as nats-server sends them.

The server's internal client queues an ack to a plain client's inbox subscription without the
router's layers (Server.publish's reply plan); a subscription the delivery rules treat specially
takes the general path. Every case here sends several publishes (several in one read, too),
so the plan is built and then reused, and changes what it must notice between them: an UNSUB
maximum, a second or literal subscription, a queue subscription, a delivery deny list. The
acks' order against PONG depends on timing (nats-server answers publishes on another
goroutine), so PONGs are left out of the comparison; everything else must be equal.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server_stub.harness import raw_session, run, server

pytestmark = pytest.mark.e2e

CREATE = b'{"name":"S","subjects":["s.>"],"storage":"file"}'
# a pull consumer whose filter nothing is published to: a no_wait pull gets a 404 status
CONSUMER = b'{"stream_name":"S","config":{"durable_name":"c","filter_subject":"s.none"}}'
NEXT = b'{"batch":1,"no_wait":true}'


def _connect(user: str) -> bytes:
    login = b'"user":"%s","pass":"%s"' % (user.encode(), user.encode())
    return b'CONNECT {"verbose":false,"headers":true,' + login + b"}\r\n"


def _pub(inbox: bytes) -> bytes:
    return b"PUB s.1 " + inbox + b" 2\r\nhi\r\n"


ACK_X1 = _pub(b"_INBOX.x.1")

CASES: dict[str, list[bytes]] = {
    "acks_in_one_read_and_across_reads": [
        _connect("a"), b"SUB _INBOX.x.* 1\r\n", ACK_X1 * 3, ACK_X1 * 2, ACK_X1,
    ],
    "unsub_maximum_after_the_plan_is_warm": [
        _connect("a"), b"SUB _INBOX.x.* 1\r\n", ACK_X1 * 2, b"UNSUB 1 4\r\n", ACK_X1 * 3,
        ACK_X1,
    ],
    # (a fresh inbox: nats-server's match cache keeps an earlier case's subject, and a
    # cached subject's subscriptions come in the order they were made)
    "two_subscriptions_on_different_nodes": [
        _connect("a"), b"SUB _INBOX.t.* 1\r\n", b"SUB _INBOX.> 2\r\n", _pub(b"_INBOX.t.1") * 3,
    ],
    "a_literal_inbox_beside_the_wildcard": [
        _connect("a"), b"SUB _INBOX.l.* 1\r\n", _pub(b"_INBOX.l.1") * 2, b"SUB _INBOX.l.2 2\r\n",
        _pub(b"_INBOX.l.1") + _pub(b"_INBOX.l.2") + _pub(b"_INBOX.l.3"),
    ],
    "a_queue_subscription_on_the_inbox": [
        _connect("a"), b"SUB _INBOX.x.* q 1\r\n", ACK_X1 * 3, b"SUB _INBOX.x.* 2\r\n", ACK_X1 * 2,
    ],
    "subscriptions_come_and_go": [
        _connect("a"), b"SUB _INBOX.x.* 1\r\n", ACK_X1 * 2, b"SUB _INBOX.y.* 2\r\n",
        _pub(b"_INBOX.y.1") * 2, b"UNSUB 1\r\n", ACK_X1 * 2, _pub(b"_INBOX.y.2"),
    ],
    "a_pull_request_status": [
        _connect("a"), b"SUB _INBOX.p.* 1\r\n",
        b"PUB $JS.API.CONSUMER.MSG.NEXT.S.c _INBOX.p.1 %d\r\n%s\r\n" % (len(NEXT), NEXT),
    ],
    "a_delivery_deny_list": [
        _connect("f"), b"SUB _INBOX.x.* 1\r\n",
        ACK_X1 + _pub(b"_INBOX.x.2") + _pub(b"_INBOX.x.3"), _pub(b"_INBOX.x.2") * 2,
    ],
}  # fmt: skip


def _config(tmp: Path, kind: str) -> Path:
    conf = tmp / f"{kind}.conf"
    conf.write_text(
        f'jetstream {{ store_dir: "{tmp / (kind + "-js")}" }}\n'
        "authorization { users = [\n"
        "  {user: a, password: a}\n"
        '  {user: f, password: f, permissions: {subscribe: {allow: [">"], deny: ["_INBOX.x.2"]}}}\n'
        "] }\n"
    )
    return conf


def _acks(kind: str, tmp: Path) -> dict[str, bytes]:
    with server(kind, _config(tmp, kind)) as url:
        create = [
            _connect("a"),
            b"SUB _INBOX.c.* 9\r\n",
            b"PUB $JS.API.STREAM.CREATE.S _INBOX.c.1 %d\r\n%s\r\n" % (len(CREATE), CREATE),
            b"PUB $JS.API.CONSUMER.CREATE.S.c _INBOX.c.2 %d\r\n%s\r\n" % (len(CONSUMER), CONSUMER),
        ]
        created = run(raw_session(url, create, 0.3))
        assert b"stream_create_response" in created and b'"error"' not in created, created
        assert b"consumer_create_response" in created, created
        # API replies carry no reply field either (the stream info itself differs in times)
        assert created.startswith(b"MSG _INBOX.c.1 9 "), created
        return {name: _without_pongs(run(raw_session(url, c))) for name, c in CASES.items()}


def _without_pongs(data: bytes) -> bytes:
    lines = data.split(b"\r\n")
    return b"\r\n".join(line for line in lines if line != b"PONG" and not line.startswith(b"INFO "))


def test_acks_match_nats_server(tmp_path: Path) -> None:
    want = _acks("nats-server", tmp_path)
    got = _acks("stub", tmp_path)
    for name in CASES:
        assert got[name] == want[name], name
    # the cases reach what they are about: acks delivered (with nats-server's empty reply
    # field), the deny list and the UNSUB maximum each holding some back
    assert got["acks_in_one_read_and_across_reads"].count(b"MSG _INBOX.x.1 1 22\r\n") == 6
    assert got["unsub_maximum_after_the_plan_is_warm"].count(b"MSG ") == 4
    assert b"_INBOX.x.2" not in got["a_delivery_deny_list"]
    assert got["a_delivery_deny_list"].count(b"MSG ") == 2
    assert got["a_pull_request_status"].startswith(b"HMSG _INBOX.p.1 1 ")
