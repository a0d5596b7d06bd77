"""WebSocket on both servers: nats.go (Debian's package) and nats-py (aiohttp) over ws://, the
same programs, outputs compared; a ws client and a TCP client talk; bad handshakes answered
with the same HTTP status; /connz shows the connection type."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import nats
import pytest

from tests.server_stub.harness import free_port, run, server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(scope="module")
def go_wsclient(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/interop/go/wsclient built with Debian's nats.go (skips without Go)."""
    from tests.interop.conftest import INSTALL_HINT, build_go_program

    if shutil.which("go") is None:
        pytest.skip(f"the Go toolchain is not installed ({INSTALL_HINT})")
    binary = tmp_path_factory.mktemp("go-wsclient") / "wsclient"
    build_go_program(Path(__file__).parents[1] / "interop" / "go" / "wsclient", binary)
    return binary


def _conf(tmp_path: Path, kind: str) -> tuple[Path, int, int]:
    ws_port, http_port = free_port(), free_port()
    conf = tmp_path / f"{kind}-ws.conf"
    # the block's brace on the next line, as nats-server accepts it
    conf.write_text(
        f"http_port: {http_port}\nwebsocket\n{{\n  port: {ws_port}\n  no_tls: true\n}}\n"
    )
    return conf, ws_port, http_port


async def _py_program(ws_url: str, tcp_url: str, http_port: int) -> list[str]:
    out: list[str] = []
    nc = await nats.connect(ws_url, allow_reconnect=False, name="ws-py")
    tcp = await nats.connect(tcp_url, allow_reconnect=False, name="tcp-py")
    sub = await nc.subscribe("ws.>")

    async def answer(msg) -> None:
        await msg.respond(b"re:" + msg.data)

    await tcp.subscribe("svc", cb=answer)
    await nc.flush()
    await tcp.flush()
    await nc.publish("ws.small", b"hi")
    await nc.publish("ws.headers", b"with headers", headers={"X-Kind": "test"})
    await tcp.publish("ws.from-tcp", b"x" * 70_000)  # over 65535: a 64-bit frame length
    await tcp.flush()
    received = []
    for _ in range(3):
        msg = await sub.next_msg(timeout=10)
        kind = (msg.headers or {}).get("X-Kind", "")
        received.append(f"msg {msg.subject} {len(msg.data)} {kind!r}")
    out += sorted(received)  # two publishers: nats-server does not always keep their order
    reply = await nc.request("svc", b"ping", timeout=10)
    out.append(f"reply {reply.data.decode()}")
    try:
        await nc.request("nobody.home", b"", timeout=2)
    except Exception as exc:
        out.append(f"error: {type(exc).__name__}")
    connz = await asyncio.to_thread(_connz, http_port)
    varz = await asyncio.to_thread(_connz, http_port, "varz")
    out.append(f"varz websocket {sorted(varz['websocket'])} {varz['websocket']['no_tls']}")
    out += sorted(f"conn {c.get('name')} {c['type']}" for c in connz["connections"])
    await nc.close()
    await tcp.close()
    return out


def _connz(http_port: int, endpoint: str = "connz") -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/{endpoint}", timeout=5) as answer:
        return json.loads(answer.read())


async def _handshakes(ws_port: int) -> list[str]:
    """Raw upgrade requests, good and bad: the status line of each answer."""
    key = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3 (answer: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=)
    good = {
        "Host": "127.0.0.1",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": key,
        "Sec-WebSocket-Version": "13",
    }
    cases = [
        ("GET", good),
        ("POST", good),
        ("GET", {**good, "Sec-WebSocket-Version": "12"}),
        ("GET", {k: v for k, v in good.items() if k != "Sec-WebSocket-Key"}),
        ("GET", {**good, "Upgrade": "h2c"}),
        ("GET", {**good, "Connection": "keep-alive"}),
    ]
    out = []
    for method, headers in cases:
        reader, writer = await asyncio.open_connection("127.0.0.1", ws_port)
        head = f"{method} / HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        writer.write(head.encode() + b"\r\n")
        line = await asyncio.wait_for(reader.readline(), 5)
        rest = await asyncio.wait_for(reader.read(4096), 5)
        accept = [h for h in rest.split(b"\r\n") if h.lower().startswith(b"sec-websocket-accept")]
        out.append(f"{line.decode().strip()} {accept!r}" if accept else line.decode().strip())
        writer.close()
    return out


def test_go_client_over_websocket_same_on_both_servers(tmp_path: Path, go_wsclient: Path) -> None:
    outputs = {}
    for kind in ("nats-server", "stub"):
        conf, ws_port, _ = _conf(tmp_path, kind)
        with server(kind, conf):
            argv = [str(go_wsclient), "-url", f"ws://127.0.0.1:{ws_port}"]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=True)
            outputs[kind] = done.stdout.splitlines()
    assert outputs["stub"] == outputs["nats-server"]
    assert outputs["stub"] == [
        "connected",
        'msg ws.small 2 ""',
        'msg ws.headers 12 "test"',
        'msg ws.big 204800 ""',
        "reply re:ping",
        "error: nats: no responders available for request",
    ]


def test_nats_py_over_websocket_same_on_both_servers(tmp_path: Path) -> None:
    outputs = {}
    for kind in ("nats-server", "stub"):
        conf, ws_port, http_port = _conf(tmp_path, kind)
        with server(kind, conf) as url:
            outputs[kind] = run(_py_program(f"ws://127.0.0.1:{ws_port}", url, http_port))
            outputs[kind] += run(_handshakes(ws_port))
    assert outputs["stub"] == outputs["nats-server"]
    assert "conn ws-py websocket" in outputs["stub"]
    assert "msg ws.from-tcp 70000 ''" in outputs["stub"]


async def _pub_sub(url: str, **options) -> str:
    try:
        nc = await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0, **options)
    except Exception as exc:
        return f"refused: {str(exc).lower()}"
    sub = await nc.subscribe("t")
    await nc.publish("t", b"ok")
    msg = await sub.next_msg(timeout=10)
    await nc.close()
    return msg.data.decode()


def test_wss_with_its_own_tls_block(tmp_path: Path) -> None:
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    outcomes = {}
    for kind in ("nats-server", "stub"):
        ws_port = free_port()
        conf = tmp_path / f"{kind}.conf"
        conf.write_text(
            f"websocket {{ port: {ws_port}, tls {{ cert_file: {tmp_path}/cert.pem,"
            f" key_file: {tmp_path}/key.pem }} }}\n"
        )
        ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        with server(kind, conf):
            outcomes[kind] = run(_pub_sub(f"wss://127.0.0.1:{ws_port}", tls=ctx))
    assert outcomes == {"nats-server": "ok", "stub": "ok"}


def test_allowed_connection_types_tell_websocket_from_tcp(tmp_path: Path) -> None:
    """Operator mode: a STANDARD-only user is refused over ws, a WEBSOCKET-only one over TCP."""
    from tests.server_stub.chain import Chain

    chain = Chain.create(tmp_path, "APP")
    users = {
        kind: chain.user("APP", lambda u, k=kind: setattr(u, "allowed_connection_types", [k]))
        for kind in ("STANDARD", "WEBSOCKET")
    }
    results = {}
    for kind in ("nats-server", "stub"):
        ws_port = free_port()
        conf = chain.config(kind, extra=f"websocket {{ port: {ws_port}, no_tls: true }}\n")
        with server(kind, conf) as url:
            ws_url = f"ws://127.0.0.1:{ws_port}"
            results[kind] = {
                (user, transport): run(_pub_sub(target, user_credentials=str(creds.path)))
                for user, creds in users.items()
                for transport, target in (("tcp", url), ("ws", ws_url))
            }
    assert results["stub"] == results["nats-server"]
    assert results["stub"][("WEBSOCKET", "ws")] == "ok"
    assert "authorization violation" in results["stub"][("STANDARD", "ws")]
