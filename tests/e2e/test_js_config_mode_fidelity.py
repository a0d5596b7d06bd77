"""JetStream settings from the config file, differential: the same file on nats-server and stub.

`jetstream { domain }` (the API answered on $JS.<domain>.API too, the domain in acks, account
info and INFO) and per-account `jetstream {}` limits in config mode (an account without the
block has no JetStream; max_streams / max_mem / max_consumers are enforced).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest

from server_stub.config import load
from server_stub.errors import ConfigError
from server_stub.jetstream.errors import JsConfigError
from server_stub.server import Server
from tests.e2e.test_js_nats_py import run
from tests.support.natsserver import nats_server

pytestmark = pytest.mark.e2e

CONFIG = """
jetstream {{ store_dir: "{store}", domain: hub }}
accounts {{
  A: {{ jetstream: {{ max_streams: 1, max_mem: 1M, max_file: 2M, max_consumers: 1 }},
       users: [{{user: a, password: a}}] }}
  B: {{ users: [{{user: b, password: b}}] }}
  C: {{ jetstream: enabled, users: [{{user: c, password: c}}] }}
}}
"""


@contextlib.asynccontextmanager
async def stub_from_config(workdir: Path) -> AsyncIterator[str]:
    workdir.mkdir(parents=True)
    conf = workdir / "server.conf"
    conf.write_text('listen: "127.0.0.1:0"\n' + CONFIG.format(store=workdir / "js"))
    server = Server(load(conf))
    await server.start()
    try:
        yield server.url
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def real_from_config(workdir: Path) -> AsyncIterator[str]:
    with nats_server(workdir, CONFIG.format(store=workdir / "js")) as server:
        yield server.url


async def story(url: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for user in "abc":
        nc = await nats.connect(url, user=user, password=user)
        try:
            out[f"{user}_info_domain"] = nc._server_info.get("domain")

            async def call(subject: str, body: dict[str, Any] | None = None, nc: Any = nc) -> Any:
                payload = json.dumps(body).encode() if body is not None else b""
                answer = json.loads((await nc.request(subject, payload, timeout=10)).data)
                answer.pop("created", None), answer.pop("ts", None)
                return answer

            out[f"{user}_info"] = await call("$JS.API.INFO")
            out[f"{user}_info_hub"] = await call("$JS.hub.API.INFO")
            for name in ("S1", "S2"):
                stream = {"name": name, "subjects": [name.lower()], "storage": "memory"}
                stream["max_bytes"] = 1000
                created = await call(f"$JS.hub.API.STREAM.CREATE.{name}", stream)
                out[f"{user}_{name}"] = created.get("error") or created["config"]["name"]
            big = {"name": "BIG", "subjects": ["big"], "storage": "memory", "max_bytes": 5_000_000}
            out[f"{user}_big"] = (await call("$JS.API.STREAM.CREATE.BIG", big)).get("error")
            if "error" not in out[f"{user}_info"]:
                ack = await nc.request("s1", b"x", timeout=10)
                out[f"{user}_ack"] = json.loads(ack.data)
                js = nc.jetstream(domain="hub", timeout=10)
                out[f"{user}_js_domain"] = (await js.account_info()).domain
                consumers = []
                for name in ("c1", "c2"):
                    request = {"stream_name": "S1", "config": {"durable_name": name}}
                    made = await call(f"$JS.API.CONSUMER.CREATE.S1.{name}", request)
                    consumers.append(made.get("error") or made["name"])
                out[f"{user}_consumers"] = consumers
        finally:
            await nc.close()
    return out


def test_domain_and_account_limits_from_the_config_file(tmp_path: Path) -> None:
    async def both() -> tuple[Any, Any]:
        async with real_from_config(tmp_path / "real") as url:
            real = await story(url)
        async with stub_from_config(tmp_path / "stub") as url:
            stub = await story(url)
        return real, stub

    real, stub = run(both())
    assert real["b_info"]["error"]["err_code"] == 10039  # no jetstream block: not enabled
    assert real["a_S2"]["err_code"] == 10027 and real["c_S2"] == "S2"
    assert real["a_ack"] == {"stream": "S1", "domain": "hub", "seq": 1}
    assert stub == real


@pytest.mark.parametrize(
    "block",
    [
        "jetstream: { max_streams: 1, bogus: 2 }",
        "jetstream: sometimes",
        'jetstream: { max_mem: "1M" }',
    ],
)
def test_bad_account_jetstream_blocks_are_refused_at_load(tmp_path: Path, block: str) -> None:
    conf = tmp_path / "server.conf"
    conf.write_text(f"accounts {{ A: {{ {block}, users: [{{user: a, password: a}}] }} }}\n")
    with pytest.raises(ConfigError, match="account A jetstream"):
        load(conf)


async def start_stub(conf: Path) -> Server:
    server = Server(load(conf))
    await server.start()
    return server


@contextlib.asynccontextmanager
async def both_from(workdir: Path, body: str) -> AsyncIterator[tuple[str, str]]:
    """nats-server and the stub, each started from `body` (a {store} placeholder filled)."""
    (workdir / "stub").mkdir(parents=True)
    conf = workdir / "stub" / "server.conf"
    stub_body = body.replace("{store}", str(workdir / "stub" / "js"))
    conf.write_text('listen: "127.0.0.1:0"\n' + stub_body)
    with nats_server(
        workdir / "real", body.replace("{store}", str(workdir / "real" / "js"))
    ) as real:
        server = await start_stub(conf)
        try:
            yield real.url, server.url
        finally:
            await server.stop()


async def server_limits_story(url: str) -> list[Any]:
    out: list[Any] = []
    nc = await nats.connect(url)
    try:

        async def call(subject: str, body: dict[str, Any]) -> Any:
            reply = await nc.request(subject, json.dumps(body).encode(), timeout=10)
            answer = json.loads(reply.data)
            return answer.get("error") or answer["config"]["name"]

        for name, storage, max_bytes in (
            ("M1", "memory", 2_000_000),
            ("M2", "memory", 600_000),
            ("M3", "memory", 600_000),
            ("M4", "memory", -1),
            ("F1", "file", 3_000_000),
            ("F2", "file", 1_000_000),
        ):
            body = {"name": name, "subjects": [name.lower()], "storage": storage}
            body["max_bytes"] = max_bytes
            out.append((name, await call(f"$JS.API.STREAM.CREATE.{name}", body)))
        out.append(("update", await call("$JS.API.STREAM.UPDATE.M2", {
            "name": "M2", "subjects": ["m2"], "storage": "memory", "max_bytes": 900_000,
        })))  # fmt: skip
    finally:
        await nc.close()
    return out


def test_server_wide_store_limits(tmp_path: Path) -> None:
    body = 'jetstream { store: "{store}", max_mem: 1MB, max_file_store: 2MB }\n'

    async def go() -> tuple[Any, Any]:
        async with both_from(tmp_path, body) as (real_url, stub_url):
            return await server_limits_story(real_url), await server_limits_story(stub_url)

    real, stub = run(go())
    assert real[0][1]["err_code"] == 10028 and real[1][1] == "M2"
    assert stub == real


async def disabled_story(url: str) -> Any:
    nc = await nats.connect(url)
    try:
        await nc.request("$JS.API.INFO", b"", timeout=1)
    except Exception as exc:
        return type(exc).__name__, nc._server_info.get("jetstream")
    finally:
        await nc.close()
    return "answered"


@pytest.mark.parametrize(
    "body", ["jetstream: disabled\n", "jetstream: false\n", "jetstream { enabled: false }\n"]
)
def test_jetstream_switched_off_in_the_config(tmp_path: Path, body: str) -> None:
    async def go() -> tuple[Any, Any]:
        async with both_from(tmp_path, body) as (real_url, stub_url):
            return await disabled_story(real_url), await disabled_story(stub_url)

    real, stub = run(go())
    assert real == ("NoRespondersError", None)
    assert stub == real


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("jetstream: sometimes\n", "jetstream must be"),
        ("jetstream { enabled: maybe }\n", "enabled must be true or false"),
        ("jetstream { store_dir: /a, store: /b }\n", "given twice"),
        ("jetstream { unique_tag: az }\n", "unknown jetstream option"),
    ],
)
def test_bad_jetstream_blocks_are_refused(tmp_path: Path, body: str, message: str) -> None:
    conf = tmp_path / "server.conf"
    conf.write_text('listen: "127.0.0.1:0"\n' + body)

    async def start_and_stop() -> None:
        server = await start_stub(conf)
        await server.stop()

    with pytest.raises((ConfigError, JsConfigError), match=message):
        run(start_and_stop())
