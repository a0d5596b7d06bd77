"""nats-py's JetStream API on server_stub's JetStream and on the real nats-server: same results."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from pathlib import Path

import nats
import nats.js.errors
import pytest

from server_stub.jetstream.host import attach
from server_stub.options import ServerOptions
from server_stub.server import Server
from tests.support.natsserver import free_port, nats_server_binary, wait_for_info

pytestmark = pytest.mark.e2e


@contextlib.asynccontextmanager
async def stub_url(store: Path, **block):
    server = Server(ServerOptions(port=0))
    await server.start()
    server.services.append(attach(server, {"store_dir": str(store), **block}))
    try:
        yield server.url
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def real_url(store: Path, **block):
    """nats-server with `jetstream { store_dir, block's keys }` (values written quoted)."""
    port = free_port()
    conf = store.parent / f"{store.name}.conf"
    lines = [f'store_dir: "{store}"', *(f'{key}: "{value}"' for key, value in block.items())]
    conf.write_text("jetstream {\n  " + "\n  ".join(lines) + "\n}\n")
    proc = subprocess.Popen(
        [nats_server_binary(), "-c", str(conf), "-a", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await asyncio.to_thread(wait_for_info, port, 10.0, proc)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


async def scenario(url: str) -> dict:
    out: dict = {}
    nc = await nats.connect(url)
    js = nc.jetstream()
    try:
        created = await js.add_stream(name="ORDERS", subjects=["orders.>"])
        out["created"] = (
            created.config.name,
            created.config.duplicate_window,
            created.state.messages,
        )
        acks = [await js.publish(f"orders.{i}", b"payload %d" % i) for i in range(3)]
        out["acks"] = [(a.stream, a.seq, a.duplicate) for a in acks]
        dup = [await js.publish("orders.9", b"d", headers={"Nats-Msg-Id": "x"}) for _ in range(2)]
        out["dup"] = [(a.seq, a.duplicate) for a in dup]
        try:
            await js.publish("nowhere.1", b"x", timeout=1)
        except Exception as exc:
            out["no_stream"] = type(exc).__name__
        got = await js.get_msg("ORDERS", 4)
        out["get"] = (got.subject, got.seq, got.data, got.headers)
        try:
            await js.get_msg("ORDERS", 99)
        except nats.js.errors.APIError as exc:
            out["get_missing"] = (type(exc).__name__, exc.code, exc.err_code)
        sub = await js.pull_subscribe("orders.1", durable="dur", stream="ORDERS")
        msgs = await sub.fetch(1, timeout=2)
        meta = msgs[0].metadata
        out["fetch"] = (msgs[0].subject, msgs[0].data, meta.sequence.stream, meta.num_delivered)
        await msgs[0].ack()
        with pytest.raises(nats.errors.TimeoutError):
            await sub.fetch(1, timeout=0.5)
        all_sub = await js.pull_subscribe("orders.2", durable="batch", stream="ORDERS")
        batch = await all_sub.fetch(5, timeout=1)
        out["batch"] = [m.data for m in batch]
        await js.publish("orders.2", b"late")
        late = await all_sub.fetch(1, timeout=2)
        out["late"] = [m.data for m in late]
        for m in batch + late:
            await m.ack_sync()
        # wildcard filters: nats-py publishes the create request to a subject ending in `orders.>`
        every = await js.pull_subscribe("orders.>", durable="every")
        everything = await every.fetch(10, timeout=1)
        out["every"] = [(m.subject, m.data, m.metadata.sequence.stream) for m in everything]
        for m in everything:
            await m.ack()
        ephemeral = await js.pull_subscribe("orders.*", stream="ORDERS")
        out["ephemeral"] = [m.subject for m in await ephemeral.fetch(2, timeout=1)]
        await ephemeral.unsubscribe()
        cinfo = await js.consumer_info("ORDERS", "dur")
        out["consumer"] = (cinfo.num_pending, cinfo.num_ack_pending, cinfo.delivered.stream_seq)
        info = await js.stream_info("ORDERS")
        state = info.state
        out["info"] = (
            state.messages,
            state.bytes,
            state.first_seq,
            state.last_seq,
            state.consumer_count,
        )
        account = await js.account_info()
        out["account"] = (account.streams, account.consumers, account.storage)
        try:
            await js.stream_info("NOPE")
        except nats.js.errors.NotFoundError as exc:
            out["info_missing"] = exc.err_code
        out["deleted"] = await js.delete_stream("ORDERS")
        out["names_after"] = await js.streams_info()
    finally:
        await nc.close()
    return out


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


@pytest.mark.parametrize("cipher", [None, "chachapoly", "aes"])
def test_same_results_as_nats_server(tmp_path: Path, cipher: str | None) -> None:
    block = {"cipher": cipher, "key": "a-test-key"} if cipher else {}

    async def both():
        async with real_url(tmp_path / "real", **block) as url:
            real = await scenario(url)
        async with stub_url(tmp_path / "stub", **block) as url:
            stub = await scenario(url)
        return real, stub

    real, stub = run(both())
    assert real["no_stream"] == "NoStreamResponseError"
    assert real["get_missing"] == ("NotFoundError", 404, 10037)
    assert stub == real


def test_restart_and_encryption_grep_on_both(tmp_path: Path) -> None:
    block = {"cipher": "chachapoly", "key": "the-key"}
    secret = b"top-secret-payload-5a5a"

    async def publish_then_read(factory, store: Path):
        async with factory(store, **block) as url:
            nc = await nats.connect(url)
            js = nc.jetstream()
            await js.add_stream(name="S", subjects=["secret.subject.>"])
            for i in range(5):
                await js.publish(f"secret.subject.{i}", secret, headers={"X-Secret": "hv-77"})
            await nc.close()
        blob = b"".join(p.read_bytes() for p in store.rglob("*") if p.is_file())
        leaked = [n for n in (secret, b"secret.subject", b"X-Secret", b"hv-77") if n in blob]
        async with factory(store, **block) as url:
            nc = await nats.connect(url)
            js = nc.jetstream()
            msg = await js.get_msg("S", 5)
            info = await js.stream_info("S")
            await nc.close()
        return leaked, msg.data, info.state.messages

    real = run(publish_then_read(real_url, tmp_path / "real"))
    stub = run(publish_then_read(stub_url, tmp_path / "stub"))
    assert real == stub == ([], secret, 5)
