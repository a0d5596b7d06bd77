"""TLS on both servers with a trustme CA: upgrade after INFO, plaintext refused, mTLS verify."""

from __future__ import annotations

import asyncio
import gc
import ssl
from pathlib import Path

import nats
import pytest
import trustme

from tests.server_stub.harness import run, server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("client@example.com")
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    cert.private_key_pem.write_to_path(str(d / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(d / "cert.pem"))
    client.private_key_and_cert_chain_pem.write_to_path(str(d / "client.pem"))
    (d / "tls.conf").write_text(f'tls {{ cert_file: "{d}/cert.pem", key_file: "{d}/key.pem" }}\n')
    (d / "mtls.conf").write_text(
        f'tls {{ cert_file: "{d}/cert.pem", key_file: "{d}/key.pem", ca_file: "{d}/ca.pem",'
        " verify: true }\n"
    )
    return {"dir": d, "ca": d / "ca.pem", "client": d / "client.pem"}


async def _tls_outcomes(url: str, pki: dict[str, Path], mtls: bool) -> dict[str, object]:
    out: dict[str, object] = {}
    host, port = url.removeprefix("nats://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    info = await reader.readline()
    out["info_tls_required"] = b'"tls_required":true' in info
    writer.write(b"CONNECT {}\r\nPING\r\n")  # plaintext after INFO: the server must hang up
    try:
        data = await asyncio.wait_for(reader.read(), 3)
    except (ConnectionError, asyncio.TimeoutError):
        data = b"<reset>"
    out["plaintext"] = b"PONG" in data
    writer.close()
    ctx = ssl.create_default_context(cafile=str(pki["ca"]))
    if not mtls:
        nc = await nats.connect(url, tls=ctx, allow_reconnect=False)
        sub = await nc.subscribe("secure")
        await nc.publish("secure", b"over tls")
        out["message"] = (await sub.next_msg(timeout=2)).data
        await nc.close()
        try:
            await nats.connect(url, allow_reconnect=False, max_reconnect_attempts=0)
            out["untrusted_ca"] = "accepted"
        except Exception as exc:
            out["untrusted_ca"] = type(exc).__name__
        return out
    try:
        nc = await nats.connect(url, tls=ctx, allow_reconnect=False, max_reconnect_attempts=0)
        await nc.flush(timeout=2)
        await nc.close()
        out["no_client_cert"] = "accepted"
    except Exception:
        out["no_client_cert"] = "refused"
    ctx.load_cert_chain(str(pki["client"]))
    nc = await nats.connect(url, tls=ctx, allow_reconnect=False)
    await nc.flush()
    out["with_client_cert"] = nc.is_connected
    await nc.close()
    return out


@pytest.mark.parametrize("mtls", [False, True], ids=["tls", "mtls"])
def test_tls_same_on_both_servers(pki, mtls: bool) -> None:
    conf = pki["dir"] / ("mtls.conf" if mtls else "tls.conf")
    results = {}
    for kind in ("nats-server", "stub"):
        with server(kind, conf) as url:
            results[kind] = run(_tls_outcomes(url, pki, mtls))
        gc.collect()
    assert results["stub"] == results["nats-server"]
    if mtls:
        assert results["stub"]["no_client_cert"] == "refused"
        assert results["stub"]["with_client_cert"] is True
    else:
        assert results["stub"]["message"] == b"over tls"
        assert results["stub"]["plaintext"] is False
