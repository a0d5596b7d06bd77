"""DIRECT.GET beyond one message, differential: batches, multi_last, start_time, no_hdr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nats
import pytest

from tests.e2e.test_js_nats_py import real_url, run, stub_url

pytestmark = pytest.mark.e2e

REQUESTS: list[dict[str, Any]] = [
    {"seq": 1, "batch": 3},
    {"seq": 2, "batch": 10, "next_by_subj": "dg.1"},
    {"multi_last": ["dg.*"]},
    {"multi_last": ["dg.*"], "up_to_seq": 3},
    {"multi_last": ["dg.*"], "batch": 1},
    {"multi_last": ["zz.*"]},
    {"multi_last": ["dg.0", "dg.1"], "up_to_time": "2000-01-01T00:00:00Z"},
    {"seq": 1, "max_bytes": 5, "batch": 3},
    {"seq": 1, "no_hdr": True},
    {"seq": 9, "batch": 3},
    {"start_time": "2000-01-01T00:00:00Z", "batch": 2},
    {"start_time": "2000-01-01T00:00:00Z"},
    {"last_by_subj": "dg.0", "batch": 2},
    {"batch": 2},
]


async def story(url: str) -> list[Any]:
    out: list[Any] = []
    nc = await nats.connect(url)
    js = nc.jetstream(timeout=10)
    try:
        await js.add_stream(name="DG", subjects=["dg.>"], allow_direct=True)
        for i in range(5):
            await js.publish(f"dg.{i % 2}", b"m%d" % i, headers={"X-N": str(i)})
        for body in REQUESTS:
            inbox = nc.new_inbox()
            sub = await nc.subscribe(inbox)
            await nc.publish("$JS.API.DIRECT.GET.DG", json.dumps(body).encode(), reply=inbox)
            got = []
            for _ in range(20):  # bounded: a batch ends with a status
                msg = await sub.next_msg(timeout=10)
                headers = {k: v for k, v in (msg.headers or {}).items() if k != "Nats-Time-Stamp"}
                got.append((headers, msg.data))
                if "Status" in headers or body.get("batch") is None and "multi_last" not in body:
                    break
            await sub.unsubscribe()
            out.append((body, got))
    finally:
        await nc.close()
    return out


def test_direct_get_batches(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_url(tmp_path / "real") as url:
            real = await story(url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await story(url)
        return real, stub

    real, stub = run(both())
    assert real[0][1][-1][0]["Description"] == "EOB"
    for theirs, ours in zip(real, stub, strict=True):
        assert ours == theirs
