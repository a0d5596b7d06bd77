"""KV and Object Store through nats-py, differential: the same program on nats-server and the stub.

These are the features that need flow control, idle heartbeats and ordered consumers (keys,
watch, history, purge_deletes, Object Store get/list/watch of a multi-chunk object).
"""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import nats
import nats.js.errors
import pytest
from nats.js import api

from tests.e2e.test_js_nats_py import real_url, run, stub_url

pytestmark = pytest.mark.e2e


def entry(e: Any) -> Any:
    if e is None:
        return None
    return (e.key, e.value, e.revision, e.operation, e.delta)


async def outcome(call: Any) -> Any:
    try:
        return await call
    except nats.js.errors.APIError as exc:
        fields = ("code", "err_code", "description")
        return (type(exc).__name__, *(getattr(exc, f, None) for f in fields))
    except Exception as exc:
        return type(exc).__name__


async def kv_story(url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    try:
        kv = await js.create_key_value(bucket="cfg", history=5)
        status = await kv.status()
        out["status"] = (status.bucket, status.values, status.history, status.ttl)
        out["put"] = [await kv.put("a", b"1"), await kv.put("b", b"2"), await kv.put("a", b"3")]
        out["get"] = entry(await kv.get("a"))
        out["update"] = await kv.update("a", b"4", last=3)
        out["update_wrong"] = await outcome(kv.update("a", b"5", last=1))
        out["create_again"] = await outcome(kv.create("a", b"x"))
        await kv.delete("b")
        out["get_deleted"] = await outcome(kv.get("b"))
        out["keys"] = sorted(await kv.keys())
        out["history"] = [entry(e) for e in await kv.history("a")]
        watcher = await kv.watchall()
        seen = []
        async for e in watcher:
            if e is None:
                break
            seen.append(entry(e))
        await kv.put("c", b"live")
        seen.append(entry(await watcher.updates(timeout=10)))
        await watcher.stop()
        out["watch"] = seen
        await kv.purge("a")
        out["after_purge"] = [entry(e) for e in await kv.history("a")]
        await kv.purge_deletes(olderthan=-1)
        state = (await js.stream_info("KV_cfg")).state
        out["after_purge_deletes"] = (state.messages, state.first_seq, state.last_seq)
        out["keys_after"] = sorted(await kv.keys())
        markers = await js.create_key_value(bucket="mark", ttl=1.0, limit_marker_ttl=2.0)
        await markers.create("x", b"v", msg_ttl=1.0)  # a per-key TTL
        await markers.put("y", b"w")
        watch = await markers.watchall()
        initial = []
        async for e in watch:
            if e is None:
                break
            initial.append(entry(e))
        # both expire within one expiry pass; the delta says which went first: not compared
        expired = [entry(await watch.updates(timeout=10))[:4] for _ in range(2)]
        await watch.stop()
        out["limit_markers"] = (initial, expired)
        state = (await js.stream_info("KV_mark")).state
        out["markers_state"] = (state.messages, state.first_seq, state.last_seq)
        extra = await js.create_key_value(bucket="extra", history=3, direct=True)
        for key, value in (("a.x", b"1"), ("a.y", b"2"), ("b.z", b"3"), ("a.x", b"4")):
            await extra.put(key, value)
        await extra.delete("a.y")
        out["keys_filtered"] = await outcome(extra.keys(filters=["a.*"]))
        out["keys_multi"] = await outcome(extra.keys(filters=["a.x", "b.*"]))
        out["revision_get"] = entry(await extra.get("a.x", revision=1))
        out["direct_get"] = entry(await extra.get("a.x"))
        for options in (
            {"include_history": True},
            {"ignore_deletes": True},
            {"meta_only": True},
            {"headers_only": True},
        ):
            watcher = await extra.watch("a.*", **options)
            seen = []
            async for e in watcher:
                if e is None:
                    break
                seen.append(entry(e))
            await watcher.stop()
            out[f"watch {sorted(options)}"] = seen
        await extra.purge("b.z", msg_ttl=2.0)  # a purge marker with its own TTL
        out["purged_entry"] = await outcome(extra.get("b.z"))
        status = await extra.status()
        out["extra_status"] = (status.values, status.history, status.bucket)
        ttl = await js.create_key_value(bucket="short", ttl=1.0)
        await ttl.put("k", b"v")
        out["ttl_before"] = entry(await ttl.get("k"))
        await asyncio.sleep(1.6)
        out["ttl_after"] = await outcome(ttl.get("k"))
    finally:
        await nc.close()
    return out


def test_key_value(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await kv_story(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await kv_story(url)
        return real, stub

    real, stub = run(both())
    assert real["keys"] == ["a"] and real["ttl_after"][0] == "KeyNotFoundError"
    assert [e[3] for e in real["limit_markers"][1]] == ["PURGE", "PURGE"]
    assert stub == real


async def object_story(url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    blob = hashlib.sha256(b"seed").digest() * (3 * 1024 * 1024 // 32 + 123)  # ~3 MB, 25 chunks
    try:
        store = await js.create_object_store("files")
        watcher = await store.watch(include_history=False)
        info = await store.put("big.bin", blob)
        out["put"] = (info.name, info.size, info.chunks, info.digest)
        await store.put("small.txt", b"hello")
        got = await store.get("big.bin")
        out["get"] = (got.info.size, hashlib.sha256(got.data).hexdigest())
        out["list"] = sorted((o.name, o.size) for o in await store.list())
        updates = []
        for _ in range(2):
            update = await watcher.updates(timeout=10)
            updates.append((update.name, update.size) if update else None)
        await watcher.stop()
        out["watch"] = updates
        await store.delete("small.txt")
        out["after_delete"] = sorted((o.name, o.size) for o in await store.list())
        out["get_deleted"] = await outcome(store.get("small.txt"))
        again = await store.put("big.bin", b"smaller now")  # replaces: old chunks purged
        out["replaced"] = (again.size, again.chunks)
        state = (await js.stream_info("OBJ_files")).state
        out["after_replace"] = (state.messages, state.first_seq, state.last_seq)
        meta = api.ObjectMeta(name="big.bin", description="about")
        out["update_meta"] = type(await outcome(store.update_meta("big.bin", meta))).__name__
        info = await store.get_info("big.bin")
        out["info"] = (info.size, info.description)
        out["listed_deleted"] = sorted(
            (o.name, o.deleted) for o in await store.list(ignore_deletes=False)
        )
        await store.seal()
        status = await store.status()
        out["sealed"] = (status.sealed, await outcome(store.put("late.txt", b"no")))
    finally:
        await nc.close()
    return out


def test_object_store(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await object_story(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await object_story(url)
        return real, stub

    real, stub = run(both())
    assert real["put"][2] > 20  # a multi-chunk object: ordered consumer with flow control
    assert stub == real
