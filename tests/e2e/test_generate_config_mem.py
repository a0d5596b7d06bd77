"""`generate config --mem-resolver` runs as is on `nats-server -c F`.

The store is built with the CLI; nats-py connects with the creds nscpy wrote and the server
enforces the user's permissions. After `revoke user` and a regenerated config, the revoked user
is refused while the other user still connects.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest
from nats.errors import Error as NatsError

from tests.commands.cliutil import ok, run
from tests.support.cli_e2e import build_store, creds, roundtrip
from tests.support.natsserver import serve_config

pytestmark = pytest.mark.e2e


async def _denied_publish(url: str, creds_path: str) -> list[str]:
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc))

    nc = await nats.connect(url, user_credentials=creds_path, error_cb=on_error)
    try:
        await nc.publish("billing.invoice", b"x")
        await nc.flush()
        for _ in range(40):
            if errors:
                break
            await asyncio.sleep(0.05)
        assert nc.is_connected  # a permission error leaves the connection open
        return errors
    finally:
        await nc.close()


async def _connect(url: str, creds_path: str) -> None:
    async def quiet(exc: Exception) -> None:
        pass

    nc = await nats.connect(
        url,
        user_credentials=creds_path,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0,
        error_cb=quiet,
    )
    await nc.close()


def test_mem_resolver_config_then_revocation(tmp_path: Path) -> None:
    home = tmp_path / "home"
    h = ("-H", str(home))
    build_store(home)
    conf = tmp_path / "mem.conf"
    ok(*h, "generate", "config", "--mem-resolver", "--config-file", str(conf))
    assert conf.stat().st_mode & 0o777 == 0o600
    assert "resolver: MEMORY" in conf.read_text()

    alice, bob = creds(home, "APP", "alice"), creds(home, "APP", "bob")
    with serve_config(conf) as server:
        assert roundtrip(server.url, alice) == b"hi"
        assert asyncio.run(_denied_publish(server.url, alice)) == [
            'nats: permissions violation for publish to "billing.invoice"'
        ]
        assert roundtrip(server.url, bob, "anything") == b"hi"

    ok(*h, "revoke", "user", "-a", "APP", "-n", "bob")
    # the old file stays unless -F
    code, _, err = run(*h, "generate", "config", "--mem-resolver", "--config-file", str(conf))
    assert (code, err) == (1, f"nscpy: error: {conf} exists: pass -F to overwrite it\n")
    ok(*h, "generate", "config", "--mem-resolver", "--config-file", str(conf), "-F")

    with serve_config(conf) as server:
        with pytest.raises((NatsError, OSError)) as info:
            asyncio.run(_connect(server.url, bob))
        assert "authorization violation" in str(info.value).lower()
        assert roundtrip(server.url, alice) == b"hi"
