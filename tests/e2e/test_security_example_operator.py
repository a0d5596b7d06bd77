"""The NATS Security page example, translated to operator mode, agrees on both servers.

alice (password s3cret in the config-mode original, a JWT here) may publish to orders.> and is
refused billing.invoice; the store is made with the CLI, the config with `generate config`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest

from tests.commands.cliutil import ok
from tests.server_stub.harness import server

pytestmark = pytest.mark.e2e


async def _story(url: str, creds: Path) -> tuple[bytes, list[str]]:
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    nc = await nats.connect(url, user_credentials=str(creds), error_cb=on_error)
    try:
        sub = await nc.subscribe("orders.>")
        await nc.publish("orders.new", b"order")
        msg = await sub.next_msg(timeout=5)
        await nc.publish("billing.invoice", b"invoice")
        await nc.flush()
        for _ in range(60):
            if errors:
                break
            await asyncio.sleep(0.05)
        return msg.data, errors
    finally:
        await nc.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    home = tmp_path_factory.mktemp("security") / "nsc"
    ok("-H", str(home), "add", "operator", "-n", "O", "--sys")
    ok("-H", str(home), "add", "account", "-n", "ACME")
    ok("-H", str(home), "add", "user", "-a", "ACME", "-n", "alice",
       "--allow-pub", "orders.>", "--allow-sub", "orders.>,_INBOX.>")  # fmt: skip
    conf = home.parent / "server.conf"
    ok("-H", str(home), "generate", "config", "--mem-resolver", "--config-file", str(conf))
    return conf, home / "creds" / "O" / "ACME" / "alice.creds"


@pytest.mark.parametrize("kind", ["nats-server", "stub"])
def test_security_page_example_in_operator_mode(kind: str, store: tuple[Path, Path]) -> None:
    conf, creds = store
    with server(kind, conf) as url:
        data, errors = asyncio.run(_story(url, creds))
    assert data == b"order"
    assert errors == ['nats: permissions violation for publish to "billing.invoice"']
