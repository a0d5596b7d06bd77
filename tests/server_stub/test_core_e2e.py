"""The stub without auth: nats-py pub/sub/request/queues; raw protocol agrees with nats-server."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.errors import NoRespondersError

from server_stub.inbound import first_ping_delay
from server_stub.options import ServerOptions
from server_stub.server import Server

from .harness import raw_session, run, server

pytestmark = pytest.mark.e2e


async def _inproc(**kw):
    srv = Server(ServerOptions(port=0, **kw))
    await srv.start()
    return srv


def test_pub_sub_request_queue_with_nats_py() -> None:
    async def scenario() -> None:
        srv = await _inproc()
        try:
            nc = await nats.connect(srv.url)
            got: list[tuple[str, bytes]] = []

            async def collect(msg):
                got.append((msg.subject, msg.data))

            await nc.subscribe("orders.*", cb=collect)
            await nc.subscribe("orders.>", cb=collect)
            hits: list[str] = []

            def worker(name):
                async def handle(msg):
                    hits.append(name)
                    await msg.respond(b"ok:" + msg.data)

                return handle

            for name in ("w1", "w2", "w3"):
                await nc.subscribe("svc.echo", queue="workers", cb=worker(name))
            await nc.publish("orders.new", b"1")
            await nc.publish("orders.new.eu", b"2", headers={"X-Trace": "abc"})
            for i in range(30):
                reply = await nc.request("svc.echo", str(i).encode(), timeout=2)
                assert reply.data == f"ok:{i}".encode()
            assert len(hits) == 30  # one member of the queue group per request
            assert len(set(hits)) > 1  # and not always the same one
            with pytest.raises(NoRespondersError):
                await nc.request("nobody.home", b"", timeout=2)
            await nc.flush()
            assert sorted(got) == [
                ("orders.new", b"1"),
                ("orders.new", b"1"),
                ("orders.new.eu", b"2"),
            ]
            # auto-unsubscribe after 2 messages
            limited: list[bytes] = []

            async def count(msg):
                limited.append(msg.data)

            sub = await nc.subscribe("limited", cb=count)
            await sub.unsubscribe(limit=2)
            for _ in range(5):
                await nc.publish("limited", b"x")
            await nc.flush()
            await asyncio.sleep(0.05)
            assert limited == [b"x", b"x"]
            await nc.close()
        finally:
            await srv.stop()

    run(scenario())


def test_headers_reach_subscriber() -> None:
    async def scenario() -> None:
        srv = await _inproc()
        try:
            nc = await nats.connect(srv.url)
            sub = await nc.subscribe("h")
            await nc.publish("h", b"body", headers={"A": "1", "B": "two"})
            msg = await sub.next_msg(timeout=2)
            assert msg.data == b"body"
            assert msg.headers == {"A": "1", "B": "two"}
            await nc.close()
        finally:
            await srv.stop()

    run(scenario())


def test_internal_bus_handler_and_reply() -> None:
    async def scenario() -> None:
        srv = await _inproc()
        try:
            seen = []

            def handler(msg):
                seen.append(msg)
                srv.publish(msg.account, msg.reply, b"handled", headers={"K": "v"})

            sid = srv.subscribe("$G", "internal.>", handler)
            nc = await nats.connect(srv.url)
            reply = await nc.request("internal.x", b"q", headers={"H": "1"}, timeout=2)
            assert reply.data == b"handled"
            assert reply.headers == {"K": "v"}
            assert seen[0].subject == "internal.x" and seen[0].headers == {"H": "1"}
            srv.unsubscribe(sid)
            with pytest.raises(NoRespondersError):
                await nc.request("internal.x", b"q", timeout=2)
            await nc.close()
        finally:
            await srv.stop()

    run(scenario())


def test_slow_consumer_is_closed_and_others_unaffected() -> None:
    async def scenario() -> None:
        srv = await _inproc(max_pending=64 * 1024)
        try:
            host, port = srv.url.removeprefix("nats://").rsplit(":", 1)
            reader, writer = await asyncio.open_connection(host, int(port))
            await reader.readline()
            writer.write(b'CONNECT {"verbose":false}\r\nSUB big 1\r\nPING\r\n')
            await reader.readuntil(b"PONG\r\n")
            nc = await nats.connect(srv.url)
            ok = await nc.subscribe("small")
            payload = b"x" * 60_000
            for _ in range(200):  # ~12 MB that the raw client never reads
                await nc.publish("big", payload)
            await nc.publish("small", b"still here")
            assert (await ok.next_msg(timeout=2)).data == b"still here"
            assert len(srv.clients) == 1  # the raw reader was dropped
            # counted as nats-server's varz/statsz slow_consumers, for the server and account
            assert srv.slow_consumers == 1
            assert srv.router.account("$G").slow_consumers == 1
            # and its socket is really gone: it reads what the kernel held, then EOF
            while await asyncio.wait_for(reader.read(1 << 20), 5):
                pass
            writer.close()
            await nc.close()
        finally:
            await srv.stop()

    run(scenario())


def test_one_clients_backlog_is_handled_in_turns() -> None:
    # Issue #10 item 10: a read of 256 KB of SUBs was handled in one go while every other
    # client waited. Now a connection handles a bounded number of operations per loop turn and
    # stops reading until its backlog is done; nothing is lost or reordered.
    async def scenario() -> None:
        # no server PING in the exact bytes read below, however slow a loaded machine is
        srv = await _inproc(first_ping=3600.0)
        try:
            host, port = srv.url.removeprefix("nats://").rsplit(":", 1)
            reader, writer = await asyncio.open_connection(host, int(port))
            await reader.readline()
            writer.write(b'CONNECT {"verbose":false}\r\nPING\r\n')
            await reader.readuntil(b"PONG\r\n")
            (client,) = srv.clients.values()
            storm = b"".join(b"SUB s.%d %d\r\n" % (i, i) for i in range(20_000))
            client.data_received(storm + b"PUB s.19999 2\r\nok\r\nPING\r\n")
            assert 0 < len(client.subs) < 20_000  # the rest waits for later turns
            assert client.transport is not None and not client.transport.is_reading()
            got = await asyncio.wait_for(reader.readuntil(b"PONG\r\n"), 10)
            assert got == b"MSG s.19999 19999 2\r\nok\r\nPONG\r\n"
            assert len(client.subs) == 20_000 and client.transport.is_reading()
            # leaving with 20,000 subscriptions is done in turns too, and completely
            sublist = srv.router.account("$G").sublist
            client.close()
            assert 0 < len(sublist) < 20_000
            for _ in range(100):
                await asyncio.sleep(0)
            assert len(sublist) == 0
            writer.close()
        finally:
            await srv.stop()

    run(scenario())


def test_a_closed_client_that_never_reads_is_let_go_after_write_deadline() -> None:
    # close() half-closes and lingers so a client can read its -ERR; one that never reads would
    # have kept its socket and backlog for ever (the 282 MB of issue #10 item 11)
    async def scenario() -> None:
        srv = await _inproc(write_deadline=0.5)
        try:
            host, port = srv.url.removeprefix("nats://").rsplit(":", 1)
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
            reader, writer = await asyncio.open_connection(sock=sock, limit=16 * 1024)
            await reader.readline()
            writer.write(b'CONNECT {"verbose":false}\r\nSUB big 1\r\nPING\r\n')
            await reader.readuntil(b"PONG\r\n")
            victim = next(c for c in srv.clients.values() if c.subs)
            nc = await nats.connect(srv.url)
            for _ in range(160):  # 8 MB: more than the kernel buffers, far below max_pending
                await nc.publish("big", b"x" * 50_000)
            await nc.flush()
            assert victim.transport is not None and victim.transport.get_write_buffer_size()
            held_by_kernel = victim._written - victim.transport.get_write_buffer_size()
            victim.close()  # e.g. its JWT expired, with the backlog still queued
            await asyncio.sleep(1.5)  # past the write deadline, still not reading
            total = 0
            while data := await asyncio.wait_for(reader.read(1 << 20), 5):
                total += len(data)
            # what the kernel held, then EOF: the rest of the backlog was let go
            assert total <= held_by_kernel + 64 * 1024
            assert srv.slow_consumers == 0  # closing it was not a slow-consumer verdict
            writer.close()
            await nc.close()
        finally:
            await srv.stop()

    run(scenario())


def test_stale_connection_is_closed() -> None:
    async def scenario() -> None:
        srv = await _inproc(ping_interval=0.1, ping_max=2)
        try:
            host, port = srv.url.removeprefix("nats://").rsplit(":", 1)
            reader, writer = await asyncio.open_connection(host, int(port))
            await reader.readline()
            writer.write(b'CONNECT {"verbose":false}\r\n')
            data = await asyncio.wait_for(reader.read(), 3)
            assert data == b"PING\r\nPING\r\n-ERR 'Stale Connection'\r\n"
            writer.close()
        finally:
            await srv.stop()

    run(scenario())


# --- raw protocol: byte-for-byte agreement with nats-server (no config) ----------------------

C = b'CONNECT {"verbose":true,"headers":true,"no_responders":true}\r\n'
RAW_CASES: dict[str, list[bytes]] = {
    "garbage": [b"FOO BAR\r\n"],
    "verbose_defaults_true": [b"CONNECT {}\r\n", b"SUB a 1\r\n"],
    "pub_sub_verbose": [C, b"SUB a 1\r\n", b"PUB a 2\r\nhi\r\n", b"UNSUB 1\r\n"],
    "pub_missing_size": [C, b"PUB a\r\n"],
    "pub_too_many_args": [C, b"PUB a b c d\r\n"],
    "pub_negative_size": [C, b"PUB a -1\r\n"],
    "max_payload": [C, b"PUB a 2000000\r\n"],
    "max_control_line": [C, b"PUB " + b"a" * 5000 + b" 1\r\n"],
    "payload_without_crlf": [C, b"PUB a 2\r\nhiXX\r\n"],
    "sub_missing_sid": [C, b"SUB a\r\n"],
    "sub_invalid_subject": [C, b"SUB a..b 1\r\n"],
    "sub_fwc_not_last": [C, b"SUB a.>.b 1\r\n"],
    "pub_wildcard_subject": [C, b"PUB a.* 0\r\n\r\n"],
    # nats-py connects with pedantic:false: no -ERR, and the wildcard subject is delivered as text
    "pub_wildcard_not_pedantic": [
        b'CONNECT {"verbose":true,"pedantic":false}\r\n',
        b"SUB > 1\r\n",
        b"SUB a.b 2\r\n",
        b"PUB a.* 1\r\nx\r\n",
        b"PUB a.> r 1\r\ny\r\n",
    ],
    "pub_malformed_not_pedantic": [
        b'CONNECT {"verbose":true,"pedantic":false}\r\n',
        b"SUB > 1\r\n",
        b"PUB a..b 1\r\nx\r\n",
        b"PUB a.>.b 1\r\ny\r\n",
    ],
    "pub_wildcard_pedantic": [
        b'CONNECT {"verbose":false,"pedantic":true,"headers":true}\r\n',
        b"SUB > 1\r\n",
        b"HPUB a.> 12 13\r\nNATS/1.0\r\n\r\nx\r\n",
    ],
    "hpub_hmsg": [C, b"SUB a 1\r\n", b"HPUB a r 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"],
    "hpub_without_headers": [b"CONNECT {}\r\n", b"HPUB a r 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"],
    "lower_case_and_tabs": [b"connect {}\r\n", b"sub\ta 1\r\n", b"pub  a   2\r\nhi\r\n"],
    "bare_lf": [b"CONNECT {}\n", b"SUB a 1\n", b"PUB a 1\r\nx\r\n"],
    "unsub_max": [C, b"SUB a 1\r\n", b"UNSUB 1 2\r\n", b"PUB a 1\r\nx\r\n" * 3],
    "unsub_unknown_sid": [C, b"UNSUB 99\r\n"],
    "unsub_no_args": [C, b"UNSUB\r\n"],
    "no_responders": [C, b"SUB r 1\r\n", b"PUB x r 0\r\n\r\n"],
    "no_responders_needs_headers": [b'CONNECT {"no_responders":true}\r\n'],
    "echo_false": [b'CONNECT {"echo":false}\r\n', b"SUB a 1\r\n", b"PUB a 0\r\n\r\n"],
    "duplicate_sid_ignored": [
        C,
        b"SUB a 1\r\n",
        b"SUB b 1\r\n",
        b"PUB a 0\r\n\r\n",
        b"PUB b 0\r\n\r\n",
    ],
    "queue_group": [C, b"SUB a q 1\r\n", b"SUB a q 2\r\n", b"PUB a 0\r\n\r\n"],
    "ops_before_connect": [b"SUB a 1\r\n", b"PUB a 1\r\nx\r\n"],
    "ping_junk": [C, b"PINGX\r\n", b"INFO {}\r\n", b"+OK\r\n"],
    "client_err": [C, b"-ERR 'x'\r\n"],
    "bad_connect_json": [b"CONNECT {xx\r\n"],
    "wildcard_delivery": [
        C,
        b"SUB a.* 1\r\n",
        b"SUB a.> 2\r\n",
        b"SUB > 3\r\n",
        b"PUB a.b.c 1\r\nx\r\n",
    ],
    "second_info_after_pong": [b'CONNECT {"protocol":1,"verbose":false}\r\n'],
    # a second CONNECT is a new login: the subscriptions made before it are gone, sids free
    "second_connect_drops_subscriptions": [
        b'CONNECT {"verbose":false}\r\n',
        b"SUB a 1\r\n",
        b"SUB b q 2\r\n",
        b'CONNECT {"verbose":true}\r\n',
        b"PUB a 1\r\nx\r\n",
        b"PUB b 1\r\ny\r\n",
        b"SUB a 1\r\n",
        b"UNSUB 2\r\n",
        b"PUB a 1\r\nz\r\n",
    ],
    "subscriptions_before_the_first_connect_stay": [
        b"SUB a 1\r\n",
        b'CONNECT {"verbose":false}\r\n',
        b"PUB a 1\r\nx\r\n",
    ],
}


def _normalise(out: bytes) -> bytes:
    # the second INFO carries per-run ids/ports; compare its key list instead
    def keys(m: re.Match[bytes]) -> bytes:
        return b"INFO-KEYS " + b",".join(re.findall(rb'"([a-z_]+)":', m.group(1))) + b"\r\n"

    out = re.sub(rb"INFO (\{.*?\}) \r\n", keys, out)
    # queue member choice is random on both servers
    return re.sub(rb"MSG a [12] 0", b"MSG a ? 0", out)


@pytest.fixture(scope="module", params=["nats-server", "stub"])
def any_server(request) -> Iterator[tuple[str, str]]:
    with server(request.param, None) as url:
        yield request.param, url


@pytest.fixture(scope="module")
def reference() -> Iterator[dict[str, bytes]]:
    with server("nats-server", None) as url:
        yield {name: run(raw_session(url, chunks)) for name, chunks in RAW_CASES.items()}


def test_raw_protocol_matches_nats_server(reference: dict[str, bytes]) -> None:
    with server("stub", None) as url:
        mismatches = {}
        for name, chunks in RAW_CASES.items():
            got = _normalise(run(raw_session(url, chunks)))
            want = _normalise(reference[name])
            if name == "second_info_after_pong":
                # go/git_commit are the only keys we cannot claim; key sets must match
                got, want = got.replace(b",git_commit", b""), want.replace(b",git_commit", b"")
            if got != want:
                mismatches[name] = (want, got)
    assert not mismatches, "\n".join(
        f"{k}:\n  want {w!r}\n  got  {g!r}" for k, (w, g) in mismatches.items()
    )


USERS = "authorization { users = [ {user: a, password: a}, {user: b, password: b} ] }\n"
LOGINS = {
    name: b'CONNECT {"verbose":false,"user":"%s","pass":"%s"}\r\n' % (user, password)
    for name, user, password in [("a", b"a", b"a"), ("b", b"b", b"b"), ("bad", b"a", b"x")]
}


@pytest.mark.parametrize("second", sorted(LOGINS))
def test_a_second_connect_logs_in_again(second: str, tmp_path: Path) -> None:
    conf = tmp_path / "users.conf"
    conf.write_text(USERS)
    chunks = [LOGINS["a"], b"SUB a 1\r\n", LOGINS[second]]
    if second != "bad":  # (after a refusal nats-server's close would reset what follows)
        chunks += [b"SUB b 2\r\n", b"PUB a 1\r\nx\r\n", b"PUB b 1\r\ny\r\n"]
    outputs = []
    for kind in ("nats-server", "stub"):
        with server(kind, conf) as url:
            outputs.append(_normalise(run(raw_session(url, chunks))))
    assert outputs[1] == outputs[0]
    assert outputs[1].endswith(b"<EOF>") == (second == "bad")  # a refused login closes


def test_info_keys_match_nats_server() -> None:
    async def first_info(url: str) -> list[str]:
        host, port = url.removeprefix("nats://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        line = await reader.readline()
        writer.close()
        assert line.endswith(b"} \r\n")
        return re.findall(r'"([a-z_]+)":', line.decode())

    with server("nats-server", None) as url:
        want = run(first_info(url))
    with server("stub", None) as url:
        got = run(first_info(url))
    assert got == want


def test_the_stub_serves_on_uvloop() -> None:
    # nscpy[fast]: the same server on uvloop's transports (which are no asyncio.Transport)
    pytest.importorskip("uvloop")
    from .harness import stub_server

    async def scenario(url: str) -> None:
        nc = await nats.connect(url)
        try:
            sub = await nc.subscribe("svc")
            got: list[bytes] = []

            async def answer(msg):
                got.append(msg.data)
                await msg.respond(msg.data.upper())

            await nc.subscribe("echo", cb=answer)
            for i in range(200):
                await nc.publish("svc", b"m%d" % i)
            assert (await nc.request("echo", b"hi", timeout=5)).data == b"HI"
            msgs = [await sub.next_msg(timeout=5) for _ in range(200)]
            assert [m.data for m in msgs] == [b"m%d" % i for i in range(200)]
        finally:
            await nc.close()

    with stub_server(None, "--uvloop") as url:
        run(scenario(url))


def test_first_ping_delay_is_nats_servers() -> None:
    # client.go setFirstPingTimer: min(2 s, ping_interval), plus up to a fifth of that
    assert first_ping_delay(2.0, 120.0, lambda: 0.0) == 2.0
    assert first_ping_delay(2.0, 120.0, lambda: 0.999) == pytest.approx(2.3996)
    assert first_ping_delay(2.0, 0.5, lambda: 0.0) == 0.5
    assert first_ping_delay(2.0, 0.5, lambda: 0.5) == pytest.approx(0.55)
    assert ServerOptions().first_ping == 2.0


def test_the_first_ping_comes_after_two_seconds_on_both() -> None:
    # nats-server 2.15.1 pings a client 2.0-2.4 s after it connects; the stub pinged after 1 s.
    # Only the lower bound is checked: a loaded machine may make the PING late, never early.
    async def first_ping(url: str) -> tuple[float, bytes]:
        host, port = url.removeprefix("nats://").rsplit(":", 1)
        reader, writer = await asyncio.open_connection(host, int(port))
        await reader.readline()
        loop = asyncio.get_running_loop()
        start = loop.time()
        writer.write(b'CONNECT {"verbose":false}\r\n')
        line = await asyncio.wait_for(reader.readline(), 10)
        waited = loop.time() - start
        writer.close()
        return waited, line

    with server("nats-server", None) as real, server("stub", None) as stub:

        async def both() -> list[tuple[float, bytes]]:
            return list(await asyncio.gather(first_ping(real), first_ping(stub)))

        (real_wait, real_line), (stub_wait, stub_line) = run(both())
    assert real_line == stub_line == b"PING\r\n"
    assert real_wait >= 1.95 and stub_wait >= 1.95, (real_wait, stub_wait)
