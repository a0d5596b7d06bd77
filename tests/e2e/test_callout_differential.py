"""Differential: the authorization request the stub sends equals nats-server's, field by field.

The same World (keys, accounts, sentinel JWT) and the same client run against both servers; a
capturing responder records the request message (claims, reply subject, headers) and answers it
through CalloutService.answer so the client gets in. Values that differ on every run (server
keys, the per-connection user key, client id, nonce and its signature, times) are replaced by
placeholders after their shape is checked; everything else must be equal.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import nats
import pytest

from nscpy import keys
from nscpy.callout import CALLOUT_SUBJECT, CalloutService
from nscpy.callout.messages import read_request
from nscpy.callout.usermap import parse_user_map
from tests.e2e.callout_world import MAP, World, make_tls, user_map
from tests.server_stub.harness import raw_session, run, server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

_INBOX = re.compile(r"^\$SYS\._INBOX\.[A-Za-z0-9]+\.[A-Za-z0-9]+$")
ALICE = b'CONNECT {"verbose":false,"protocol":1,"user":"alice","pass":"s3cret","name":"raw"}\r\n'


async def _capture(world: World, url: str, how: str) -> dict[str, Any]:
    """Connect one client through a capturing responder; the request as seen on the wire."""
    seen: dict[str, Any] = {}
    svc_nc = await nats.connect(url, allow_reconnect=False, **world.service_options())
    authorizer = user_map()
    if world.tls is not None:
        extra = f'[[users]]\ncert_subject = "{world.tls.client_subject}"\naccount = "ORDERS"\n'
        authorizer = parse_user_map(MAP + extra)
    service = CalloutService(svc_nc, world.service_keys(), authorizer)

    async def on_request(msg: Any) -> None:
        request = read_request(msg.data, msg.headers, xkey=world.xkey, now=_now())
        seen.update(
            claims=request.claims.to_json_dict(),
            reply=msg.reply,
            headers=dict(msg.headers or {}),
            sealed=not msg.data.startswith(b"eyJ"),
        )
        answer = await service.answer(msg.data, msg.headers)
        assert answer is not None
        await svc_nc.publish(msg.reply, answer)

    await svc_nc.subscribe(CALLOUT_SUBJECT, cb=on_request)
    await svc_nc.flush()
    try:
        if how == "raw-user":
            out = await raw_session(url, [ALICE], quiet=0.3)
            assert b"PONG" in out and b"-ERR" not in out, out
        else:
            opts = world.client_options(name="diff-client")
            if how == "token":
                opts["token"] = "t0ken"
            nc = await nats.connect(url, **opts)
            await nc.close()
    finally:
        await svc_nc.close()
    return seen


def _now() -> int:
    import time

    return int(time.time())


def _normalize(seen: dict[str, Any]) -> dict[str, Any]:
    """Check the shape of per-run values and replace them with placeholders."""
    out = copy.deepcopy(seen)
    claims = out["claims"]
    server_key = claims.pop("iss")
    assert keys.is_valid_public_key(server_key) and server_key.startswith("N")
    assert 0 < claims["exp"] - claims["iat"] <= 3  # the auth timeout (TLS: tls timeout + 1)
    for key in ("jti", "iat", "exp"):
        claims[key] = f"<{key}>"
    nats_part = claims["nats"]
    sid = nats_part["server_id"]
    for key in ("id", "name"):
        assert sid[key] == server_key  # no server_name: the name is the id
        sid[key] = "<server>"
    if "xkey" in sid:
        assert out["headers"] == {"Nats-Server-Xkey": sid["xkey"]}
        sid["xkey"] = out["headers"]["Nats-Server-Xkey"] = "<server xkey>"
    assert keys.is_valid_public_key(nats_part["user_nkey"])
    nats_part["user_nkey"] = "<user nkey>"
    info = nats_part["client_info"]
    assert isinstance(info["id"], int) and info["id"] > 0
    info["id"] = "<cid>"
    if "nonce" in info:
        assert re.fullmatch(r"[A-Za-z0-9_-]{15}", info["nonce"])
        info["nonce"] = "<nonce>"
    opts = nats_part["connect_opts"]
    if "sig" in opts:
        opts["sig"] = "<sig>"
    tls = nats_part.get("client_tls")
    if tls is not None:
        # Go and OpenSSL pick different TLS 1.3 suites from the same offer; both name it by IANA
        assert re.fullmatch(r"TLS_[A-Z0-9_]+", tls["cipher"]), tls["cipher"]
        tls["cipher"] = "<cipher>"
    assert _INBOX.match(out["reply"]), out["reply"]
    out["reply"] = "<inbox>"
    return out


CASES = {
    "config-token": ("config", "token", False, False),
    "config-user-password-raw": ("config", "raw-user", False, False),
    "config-mtls": ("config", "tls", False, True),
    "operator-token": ("operator", "token", False, False),
    "operator-xkey": ("operator", "token", True, False),
    "operator-mtls": ("operator", "tls", False, True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_request_claims_match_nats_server(tmp_path: Path, case: str):
    mode, how, use_xkey, use_tls = CASES[case]
    world = World(
        mode,
        tmp_path,
        xkey=keys.create_curve_pair() if use_xkey else None,
        tls=make_tls(tmp_path) if use_tls else None,
    )
    conf = world.config()
    seen = {}
    for kind in ("nats-server", "stub"):
        with server(kind, conf) as url:
            seen[kind] = run(_capture(world, url, how))
    lifetimes = [seen[k]["claims"]["exp"] - seen[k]["claims"]["iat"] for k in seen]
    assert abs(lifetimes[0] - lifetimes[1]) <= 1  # the same auth timeout (Go reads the clock twice)
    real, stub = _normalize(seen["nats-server"]), _normalize(seen["stub"])
    assert stub == real
    if use_tls:
        tls = real["claims"]["nats"]["client_tls"]
        assert tls["version"] == "1.3"
        # verify: true -> the verified chain (leaf, then the CA), not the bare peer certs
        assert len(tls["verified_chains"]) == 1 and len(tls["verified_chains"][0]) == 2
        assert "certs" not in tls
