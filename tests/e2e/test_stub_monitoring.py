"""The HTTP monitoring port on both servers: the same client program, then the endpoints'
key fields compared, and every field name the stub sends must be one nats-server sends."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import nats
import pytest

from tests.server_stub.harness import free_port, run, server
from tests.support.natspy import flush_subscriptions

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def _get(port: int, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            body = answer.read()
            kind = answer.headers.get("Content-Type", "")
            return answer.status, json.loads(body) if "json" in kind else body
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


async def _scenario(url: str, http_port: int) -> dict[str, Any]:
    """The same program on both servers: two clients, subscriptions, messages, a stream; then
    the endpoints are read while the clients are still connected."""
    before = (await asyncio.to_thread(_get, http_port, "/varz"))[1]["total_connections"]
    a = await nats.connect(url, name="alpha", allow_reconnect=False)
    b = await nats.connect(url, name="beta", allow_reconnect=False)
    sub = await a.subscribe("orders.>")
    await a.subscribe("work", queue="q")
    await flush_subscriptions(a)
    for i in range(3):
        await b.publish("orders.new", b"x" * (i + 1))
    await b.flush()
    for _ in range(3):
        await sub.next_msg(timeout=10)
    js = b.jetstream()
    await js.add_stream(name="S", subjects=["s.>"])
    await js.publish("s.1", b"one")
    await js.publish("s.2", b"two")
    await js.pull_subscribe("s.>", durable="D", stream="S")
    await flush_subscriptions(a)
    await flush_subscriptions(b)  # the pull subscription's SUB has reached the server
    docs = {}
    for path in PATHS:
        status, docs[path] = await asyncio.to_thread(_get, http_port, path)
        assert status == 200, (path, docs[path])
    await a.close()
    await b.close()
    # the harness's readiness probe is a connection on nats-server, not on the stub
    docs["/varz"]["total_connections"] -= before
    return docs


def _names(value: Any, prefix: str = "") -> set[str]:
    """Every field path of a JSON document (list items merged under [])."""
    out: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            out.add(prefix + key)
            out |= _names(item, f"{prefix}{key}.")
    elif isinstance(value, list):
        for item in value:
            out |= _names(item, f"{prefix}[].")
    return out


def _inbox(subject: str) -> str:
    """Inbox subjects are random: keep their shape."""
    return (
        "_INBOX.<random>" + subject[-2:] * subject.endswith(".*")
        if subject.startswith("_INBOX.")
        else subject
    )


def _key_fields(docs: dict[str, Any], port: int, http_port: int) -> dict[str, Any]:
    varz, connz, subsz = docs["/varz"], docs["/connz?subs=1"], docs["/subsz?subs=1&test=orders.x"]
    accountz, account, jsz = docs["/accountz"], docs["/accountz?acc=$G"], docs["/jsz?accounts=1"]
    return {
        "healthz": docs["/healthz"],
        "varz": {
            **{
                k: varz[k]
                for k in (
                    "version",
                    "proto",
                    "max_connections",
                    "ping_interval",
                    "ping_max",
                    "http_base_path",
                    "https_port",
                    "auth_timeout",
                    "max_control_line",
                    "max_payload",
                    "max_pending",
                    "connections",
                    "total_connections",
                    "routes",
                    "remotes",
                    "leafnodes",
                    "slow_consumers",
                    "system_account",
                    "tls_timeout",
                    "write_deadline",
                )
            },  # fmt: skip
            "port": varz["port"] == port,
            "http_port": varz["http_port"] == http_port,
            "js_accounts": varz["jetstream"]["stats"]["accounts"],
        },
        "connz": {
            "num_connections": connz["num_connections"],
            "total": connz["total"],
            "limit": connz["limit"],
            "connections": [
                {
                    k: c.get(k)
                    for k in (
                        "kind",
                        "type",
                        "ip",
                        "name",
                        "lang",
                        "subscriptions",
                        "in_msgs",
                        "out_msgs",
                        "in_bytes",
                        "pending_bytes",
                    )
                }  # fmt: skip
                | {"subs": sorted(_inbox(s) for s in c.get("subscriptions_list", []))}
                for c in connz["connections"]
            ],
        },
        "alpha_out_bytes": [
            c["out_bytes"] for c in connz["connections"] if c.get("name") == "alpha"
        ],
        "varz_counts": {k: varz[k] for k in ("in_msgs", "out_msgs")},
        "subsz": [
            (s["account"], s["subject"], s["msgs"]) for s in subsz.get("subscriptions_list", [])
        ],
        "subsz_total": subsz["total"],
        "accountz": sorted(accountz["accounts"]),
        "account": {
            k: account["account_detail"][k]
            for k in (
                "account_name",
                "expired",
                "complete",
                "jetstream_enabled",
                "client_connections",
            )
        },  # fmt: skip
        "jsz": {k: jsz[k] for k in ("accounts", "streams", "consumers", "messages", "ha_assets")}
        | {
            "api_level": jsz["api"]["level"],
            "details": [a["name"] for a in jsz["account_details"]],
        },
    }


PATHS = [
    "/healthz",
    "/varz",
    "/connz?subs=1",
    "/connz?subs=detail&auth=1",
    "/subsz?subs=1&test=orders.x",
    "/accountz",
    "/accountz?acc=$G",
    "/jsz?accounts=1",
]


def test_monitoring_endpoints_match_nats_server(tmp_path: Path) -> None:
    results: dict[str, Any] = {}
    names: dict[str, dict[str, set[str]]] = {}
    for kind in ("nats-server", "stub"):
        http_port = free_port()
        conf = tmp_path / f"{kind}.conf"
        conf.write_text(f'http_port: {http_port}\njetstream {{ store_dir: "{tmp_path / kind}" }}\n')
        with server(kind, conf) as url:
            port = int(url.rsplit(":", 1)[1])
            docs = run(_scenario(url, http_port))
        results[kind] = _key_fields(docs, port, http_port)
        names[kind] = {path: _names(doc) for path, doc in docs.items()}
    for section, expected in results["nats-server"].items():
        assert results["stub"][section] == expected, (section, results["stub"][section], expected)
    for path in PATHS:
        extra = names["stub"][path] - names["nats-server"][path]
        assert not extra, f"{path}: field names nats-server does not send: {sorted(extra)}"


def test_monitoring_refusals(tmp_path: Path) -> None:
    http_port = free_port()
    conf = tmp_path / "m.conf"
    conf.write_text(f"http: 127.0.0.1:{http_port}\n")
    with server("stub", conf):
        assert _get(http_port, "/connz?state=closed")[0] == 400
        assert _get(http_port, "/connz?limit=x")[0] == 400
        assert _get(http_port, "/routez") == (501, b"server_stub does not implement /routez")
        assert _get(http_port, "/nope")[0] == 404
        status, jsz = _get(http_port, "/jsz")
        assert status == 200 and jsz["disabled"] is True


def test_dash_m_flag_and_base_path(tmp_path: Path) -> None:
    """`-m PORT` as nats-server's; http_base_path prefixes every endpoint."""
    from tests.server_stub.harness import stub_server

    http_port = free_port()
    conf = tmp_path / "base.conf"
    conf.write_text("http_base_path: /mon\n")
    with stub_server(conf, "-m", str(http_port)):
        assert _get(http_port, "/mon/healthz") == (200, {"status": "ok"})
        assert _get(http_port, "/healthz")[0] == 404
        status, varz = _get(http_port, "/mon/varz")
        assert status == 200 and varz["http_port"] == http_port
        assert varz["http_base_path"] == "/mon" and varz["http_req_stats"] == {
            "/healthz": 1,
            "/varz": 1,
        }
