"""Work-queue and interest retention through nats-py, differential: nats-server and the stub."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import nats
import pytest

from tests.e2e.test_js_nats_py import real_url, run, stub_url

pytestmark = pytest.mark.e2e


async def story(url: str) -> list[Any]:
    out: list[Any] = []
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)

    async def api(subject: str, body: dict[str, Any]) -> Any:
        reply = await nc.request("$JS.API." + subject, json.dumps(body).encode(), timeout=10)
        return json.loads(reply.data).get("error") or "ok"

    async def state(name: str) -> tuple[int, int, int]:
        s = (await js.stream_info(name)).state
        return (s.messages, s.first_seq, s.last_seq)

    def consumer(name: str, **config: Any) -> dict[str, Any]:
        return {"stream_name": config.pop("stream"), "config": {"durable_name": name, **config}}

    try:
        out.append(await api("STREAM.CREATE.WQ", {"name": "WQ", "subjects": ["wq.>"],
                                                  "retention": "workqueue"}))  # fmt: skip
        for i in range(4):
            await js.publish(f"wq.{i % 2}", b"%d" % i)
        for name, config in (
            ("n", {"ack_policy": "none"}),
            ("aa", {"ack_policy": "all"}),
            ("c0", {"ack_policy": "explicit", "filter_subject": "wq.0"}),
            ("c1", {"ack_policy": "explicit", "filter_subject": "wq.*"}),
            ("c1", {"ack_policy": "explicit", "filter_subject": "wq.1"}),
            ("u", {"ack_policy": "explicit"}),
        ):
            out.append((name, await api(f"CONSUMER.CREATE.WQ.{name}",
                                        consumer(name, stream="WQ", **config))))  # fmt: skip
        work = await js.pull_subscribe("wq.0", durable="c0", stream="WQ")
        msgs = await work.fetch(2)
        out.append(("before ack", await state("WQ")))
        await msgs[0].ack_sync()
        out.append(("after ack", await state("WQ")))
        await msgs[1].nak()
        await asyncio.sleep(0.1)
        out.append(("after nak", await state("WQ")))
        out.append(await api("STREAM.UPDATE.WQ", {"name": "WQ", "subjects": ["wq.>"]}))
        out.append(await api("STREAM.CREATE.IN", {"name": "IN", "subjects": ["in.>"],
                                                  "retention": "interest"}))  # fmt: skip
        await js.publish("in.a", b"nobody")
        out.append(("no consumers", await state("IN")))
        for name, config in (
            ("c1", {"ack_policy": "explicit"}),
            ("c2", {"ack_policy": "explicit", "filter_subject": "in.b"}),
            ("c3", {"ack_policy": "none", "filter_subject": "in.c"}),
        ):
            out.append(await api(f"CONSUMER.CREATE.IN.{name}",
                                 consumer(name, stream="IN", **config)))  # fmt: skip
        for i, subject in enumerate(("in.a", "in.b", "in.c", "in.d")):
            await js.publish(subject, b"%d" % i)
        out.append(("stored", await state("IN")))
        first = await js.pull_subscribe("in.>", durable="c1", stream="IN")
        for msg in await first.fetch(4):
            await msg.ack_sync()
        out.append(("c1 acked", await state("IN")))
        second = await js.pull_subscribe("in.b", durable="c2", stream="IN")
        for msg in await second.fetch(1):
            await msg.ack_sync()
        out.append(("c2 acked", await state("IN")))
        third = await js.pull_subscribe("in.c", durable="c3", stream="IN")
        await third.fetch(1)
        await asyncio.sleep(0.1)
        out.append(("c3 delivered", await state("IN")))
        await js.publish("in.b", b"5")
        await api("CONSUMER.DELETE.IN.c2", {})
        await asyncio.sleep(0.1)
        out.append(("c2 deleted", await state("IN")))
        await api("CONSUMER.DELETE.IN.c1", {})
        await asyncio.sleep(0.1)
        out.append(("c1 deleted", await state("IN")))
        out.append(await api("STREAM.UPDATE.IN", {"name": "IN", "subjects": ["in.>"]}))
    finally:
        await nc.close()
    return out


def test_work_queue_and_interest_retention(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await story(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await story(url)
        return real, stub

    real, stub = run(both())
    assert ("after ack", (3, 2, 4)) in real and ("no consumers", (0, 2, 1)) in real
    assert stub == real
