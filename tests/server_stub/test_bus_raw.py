"""The internal bus's fast paths keep the router's rules: raw handlers (subscribe_raw) and
internal publishes to reply inboxes (SubList.match_inbox). No sockets: the Server's bus and
router with recording subscribers."""

from __future__ import annotations

import logging

import pytest

from server_stub.options import ServerOptions
from server_stub.router import Subscription, add_stream_import
from server_stub.server import Server


class Recorder:
    """A Subscriber that records deliveries (refuses them while `refuse` is set)."""

    echo = True

    def __init__(self) -> None:
        self.got: list[tuple[str, str, str | None, bytes | None, bytes]] = []
        self.refuse = False

    def deliver(self, sub, subject, reply, headers, payload) -> bool:
        if self.refuse:
            return False
        self.got.append((sub.sid, subject, reply, headers, payload))
        return True


def _sub(server: Server, owner: Recorder, sid: str, subject: str, account: str = "$G"):
    sub = Subscription(owner, sid, subject, None, server.router.account(account))
    server.router.subscribe(sub)
    return sub


def test_a_raw_handler_gets_the_header_block_unparsed_until_unsubscribed() -> None:
    server = Server(ServerOptions(port=0))
    seen: list[tuple[str, str, str | None, bytes | None, bytes]] = []
    sid = server.subscribe_raw("$G", "orders.*", lambda *parts: seen.append(parts))
    account = server.router.account("$G")
    block = b"NATS/1.0\r\nNats-Msg-Id: 1\r\n\r\n"
    assert server.router.publish(account, "orders.1", "_INBOX.x.1", block, b"a") == 1
    assert server.router.publish(account, "orders.2", "", None, b"b") == 1
    assert seen == [
        ("$G", "orders.1", "_INBOX.x.1", block, b"a"),
        ("$G", "orders.2", None, None, b"b"),  # no reply: None, as BusMessage has it
    ]
    server.unsubscribe(sid)
    assert server.router.publish(account, "orders.3", "", None, b"c") == 0
    assert len(seen) == 2 and not server.internal.raw_handlers


def test_a_failing_raw_handler_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    server = Server(ServerOptions(port=0))

    def broken(*parts: object) -> None:
        raise RuntimeError("boom")

    server.subscribe_raw("$G", "orders.*", broken)
    with caplog.at_level(logging.ERROR, logger="server_stub"):
        count = server.router.publish(server.router.account("$G"), "orders.1", "", None, b"")
    assert count == 1
    assert "internal handler for orders.* failed" in caplog.text


def test_an_inbox_publish_counts_toward_an_unsub_maximum_and_respects_refusals() -> None:
    server = Server(ServerOptions(port=0))
    client = Recorder()
    mux = _sub(server, client, "1", "_INBOX.p.*")
    mux.max_msgs = 2
    for i in range(3):
        server.publish("$G", f"_INBOX.p.{i}", b"ack")
    assert [g[1] for g in client.got] == ["_INBOX.p.0", "_INBOX.p.1"]  # then unsubscribed
    assert mux.delivered == 2 and not server.router.account("$G").sublist.match("_INBOX.p.9")
    other = Recorder()
    other.refuse = True  # e.g. its deny list filters the inbox
    refused = _sub(server, other, "2", "_INBOX.q.*")
    server.publish("$G", "_INBOX.q.1", b"ack")
    assert other.got == [] and refused.delivered == 0


def test_an_inbox_publish_reaches_a_literal_inbox_subscribed_after_it_was_cached() -> None:
    server = Server(ServerOptions(port=0))
    client = Recorder()
    _sub(server, client, "1", "_INBOX.p.*")
    server.publish("$G", "_INBOX.p.1", b"a")  # caches the parent _INBOX.p
    _sub(server, client, "2", "_INBOX.p.2")
    server.publish("$G", "_INBOX.p.2", b"b")
    server.publish("$G", "_INBOX.p.3", b"c")
    assert [(g[0], g[1]) for g in client.got] == [
        ("1", "_INBOX.p.1"),
        ("2", "_INBOX.p.2"),  # nats-server's order: the literal node before the '*' node
        ("1", "_INBOX.p.2"),
        ("1", "_INBOX.p.3"),
    ]
    assert all(g[2] is None for g in client.got)  # no reply field, as nats-server sends it


def test_an_inbox_publish_still_follows_stream_imports() -> None:
    server = Server(ServerOptions(port=0))
    exporter, importer = server.router.account("A"), server.router.account("B")
    add_stream_import(importer, exporter, "_INBOX.>", "_INBOX.>")
    here, there = Recorder(), Recorder()
    _sub(server, here, "1", "_INBOX.p.*", "A")
    _sub(server, there, "1", "_INBOX.p.*", "B")
    server.publish("A", "_INBOX.p.1", b"ack")
    assert [g[1] for g in here.got] == ["_INBOX.p.1"]
    assert [g[1] for g in there.got] == ["_INBOX.p.1"]
