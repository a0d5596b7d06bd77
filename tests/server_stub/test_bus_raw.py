"""The internal bus's fast paths keep the router's rules: raw handlers (subscribe_raw) and
internal publishes to reply inboxes (SubList.match_inbox). No sockets: the Server's bus and
router with recording subscribers."""

from __future__ import annotations

import asyncio
import logging

import pytest

from server_stub.client import Client
from server_stub.options import ServerOptions
from server_stub.router import Subscription, add_stream_import
from server_stub.server import Server
from tests.server_stub.harness import run


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
    # the system account's way: an empty reply field (nats-server's $SYS answers)
    assert all(g[2] == "" for g in client.got)


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


class Wire:
    """Just enough of a transport for an in-process Client: what it writes is kept."""

    def __init__(self) -> None:
        self.written = b""

    def get_extra_info(self, name: str, default: object = None) -> object:
        return ("127.0.0.1", 4222) if name == "peername" else default

    def write(self, data: bytes) -> None:
        self.written += data

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return False

    def close(self) -> None:
        pass

    def can_write_eof(self) -> bool:
        return False


async def _clients(server: Server, count: int) -> list[tuple[Client, Wire]]:
    made = []
    for i in range(count):
        client, wire = Client(server), Wire()
        client.connection_made(wire)  # type: ignore[arg-type]
        client.data_received(b'CONNECT {"verbose":false}\r\nSUB _INBOX.c%d.* 1\r\n' % i)
        made.append((client, wire))
    await asyncio.sleep(0)  # the INFO and anything queued go out
    for _, wire in made:
        wire.written = b""
    return made


@pytest.mark.parametrize(("no_reply", "field"), [(None, b""), ("", b" ")])
def test_answers_to_several_clients_reach_each_in_order_and_are_counted(
    no_reply: str | None, field: bytes
) -> None:
    """JetStream's answers have no reply field (no_reply=None), the system account's an
    empty one ("": two spaces before the size)."""

    async def scenario() -> None:
        server = Server(ServerOptions(port=0))
        (one, wire_one), (two, wire_two), (gone, wire_gone) = await _clients(server, 3)
        gone.closed = True  # closed, its subscription not yet removed (a large client leaving)
        server.publish_replies(
            "$G",
            [
                ("_INBOX.c0.1", b"a"),
                ("_INBOX.c1.1", b"b"),
                ("_INBOX.c2.1", b"x"),
                ("_INBOX.c0.2", b"c"),
                ("_INBOX.c0.3", b"d"),
                ("_INBOX.none.1", b"-"),  # nobody's: the router finds no one
                ("_INBOX.c1.2", b"e"),
            ],
            no_reply,
        )
        await asyncio.sleep(0)

        def msgs(*sent: tuple[bytes, bytes]) -> bytes:
            return b"".join(b"MSG %s 1 %s1\r\n%s\r\n" % (to, field, data) for to, data in sent)

        one_got = msgs((b"_INBOX.c0.1", b"a"), (b"_INBOX.c0.2", b"c"), (b"_INBOX.c0.3", b"d"))
        assert wire_one.written == one_got
        assert wire_two.written == msgs((b"_INBOX.c1.1", b"b"), (b"_INBOX.c1.2", b"e"))
        assert wire_gone.written == b""
        assert (one.out_msgs, one.out_bytes, two.out_msgs, gone.out_msgs) == (3, 3, 2, 0)
        assert [sub.delivered for sub in (one.subs["1"], two.subs["1"], gone.subs["1"])] == [
            3,
            2,
            0,
        ]

    run(scenario())
