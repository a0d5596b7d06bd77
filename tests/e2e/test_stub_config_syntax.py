"""Config nats-server accepts, run on both servers: a brace on the next line, `pass`,
no_auth_user (a client without credentials becomes that user), compared outcome by outcome."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import nats
import pytest

from tests.server_stub.harness import run, server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

CONF = """
accounts
{
  A
  {
    users = [
      {user: anon, pass: open, permissions: { publish: "anon.>", subscribe: "anon.>" }}
      {user: bob, pass: s3cret}
    ]
  }
}
no_auth_user: anon
"""


async def _outcomes(url: str) -> dict[str, object]:
    out: dict[str, object] = {}
    host, port = url.removeprefix("nats://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    info = json.loads((await reader.readline())[5:])
    out["auth_required"] = info.get("auth_required", False)
    # no CONNECT at all: nats-server binds no_auth_user to the first operation
    writer.write(b"SUB anon.raw 1\r\nPUB anon.raw 2\r\nhi\r\nPUB other 0\r\n\r\nPING\r\n")
    data = b""
    while b"PONG" not in data:
        data += await asyncio.wait_for(reader.read(4096), 5)
    out["raw"] = data.decode().replace("\r\n", "|")
    writer.close()
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    nc = await nats.connect(url, allow_reconnect=False, error_cb=on_error)
    sub = await nc.subscribe("anon.>")
    await nc.publish("anon.x", b"as anon")
    await nc.publish("secret.x", b"denied")
    await nc.flush()
    out["anon_msg"] = (await sub.next_msg(timeout=2)).data
    await asyncio.sleep(0.1)
    out["anon_errors"] = errors
    await nc.close()
    nc = await nats.connect(url, user="bob", password="s3cret", allow_reconnect=False)
    sub = await nc.subscribe("secret.x")
    await nc.publish("secret.x", b"as bob")
    out["bob_msg"] = (await sub.next_msg(timeout=2)).data
    await nc.close()
    try:
        await nats.connect(url, user="bob", password="wrong", allow_reconnect=False)
        out["bad_password"] = "accepted"
    except Exception as exc:
        out["bad_password"] = str(exc).lower()
    return out


def test_no_auth_user_brace_on_next_line_and_pass(tmp_path: Path) -> None:
    conf = tmp_path / "syntax.conf"
    conf.write_text(CONF)
    results = {}
    for kind in ("nats-server", "stub"):
        with server(kind, conf) as url:
            results[kind] = run(_outcomes(url))
    assert results["stub"] == results["nats-server"]
    assert results["stub"]["anon_msg"] == b"as anon" and results["stub"]["bob_msg"] == b"as bob"
    assert results["stub"]["auth_required"] is False
