"""`store shared`: a seed shared sealed lets the second admin sign; nobody else."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from nscpy import keys
from nscpy.jwt import UserClaims, decode
from tests.kvstore.conftest import nscpy, ok, plain
from tests.support.natsserver import RunningServer

pytestmark = pytest.mark.e2e

SEED = re.compile(rb"S[OAUXNC][A-Z2-7]{56}")


def _curve_key(home: Path) -> tuple[str, str]:
    made = json.loads(plain(home, "generate", "nkey", "--curve", "--store", "--json"))
    return made["public_key"], made["seed"]


def _bucket_bytes(url: str, bucket: str) -> bytes:
    """Every message the bucket's stream holds, headers and data, concatenated."""

    async def read() -> bytes:
        import nats

        nc = await nats.connect(url)
        js = nc.jetstream()
        out = b""
        info = await js.stream_info(f"KV_{bucket}")
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg(f"KV_{bucket}", seq)
            out += (msg.data or b"") + json.dumps(msg.headers or {}).encode()
        await nc.close()
        return out

    return asyncio.run(read())


def test_sealed_seed_lets_the_second_admin_sign_and_nobody_else(
    tmp_path: Path, js_server: RunningServer
) -> None:
    url = f"{js_server.url}?bucket=team"
    alice, bob, eve = tmp_path / "alice", tmp_path / "bob", tmp_path / "eve"
    ok(alice, url, "add", "operator", "-n", "O")
    ok(alice, url, "add", "account", "-n", "APP")
    ok(alice, url, "add", "user", "-a", "APP", "-n", "first")
    app = json.loads(ok(alice, url, "describe", "account", "APP", "--json"))["sub"]
    _curve_key(alice)
    bob_x, _ = _curve_key(bob)
    _eve_x, eve_seed = _curve_key(eve)

    # bob sees the store but cannot sign for APP: its seed is on alice's machine only
    refused = nscpy(bob, url, "add", "user", "-a", "APP", "-n", "bobs")
    assert refused.returncode == 1 and "in the keystore" in refused.stderr

    ok(alice, url, "store", "share-key", app, "--to", bob_x)
    listed = json.loads(ok(eve, url, "store", "shared", "--json"))
    assert listed == [{"public_key": app, "recipient": bob_x}]
    # no plain seed of any kind is in the bucket, only sealed records
    raw = _bucket_bytes(js_server.url, "team")
    assert SEED.search(raw) is None

    # bob opens it and signs a user that verifies against APP
    assert app in ok(bob, url, "store", "open-key", app)
    ok(bob, url, "add", "user", "-a", "APP", "-n", "bobs")
    user = decode(ok(bob, url, "describe", "user", "-a", "APP", "bobs", "--raw").strip())
    assert isinstance(user, UserClaims) and user.issuer == app

    # eve, with her own curve key, finds nothing shared with her ...
    denied = nscpy(eve, url, "store", "open-key", app)
    assert denied.returncode == 1 and "is shared with" in denied.stderr
    # ... and cannot open the record sealed to bob with her key
    from nscpy.actions.kvstore import SEALED_TOKEN
    from nscpy.store.kvclient import KvClient
    from nscpy.store.kvkeys import parse_store_url

    client = KvClient(parse_store_url(url))
    try:
        entry = client.get(f"{SEALED_TOKEN}.{app}.{bob_x}")
    finally:
        client.close()
    assert entry is not None
    record = json.loads(entry.value)
    import base64

    with pytest.raises(keys.NKeyError):
        keys.CurveKeyPair.from_seed(eve_seed).open(
            base64.b64decode(record["sealed"]), record["sender"]
        )
