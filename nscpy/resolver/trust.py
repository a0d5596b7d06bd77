"""Which operator keys each server trusts, from its VARZ ($SYS.REQ.SERVER.PING.VARZ).

An operator signing-key rotation may push accounts signed by the new key only once every
server was restarted with the operator JWT that lists it; VARZ carries the trusted operators'
claims, so the rotation can check before it pushes instead of having servers refuse.
"""

from __future__ import annotations

import json
from typing import Any

from nscpy.resolver.client import _run, connect, multi_request
from nscpy.resolver.errors import BadReply
from nscpy.resolver.options import ConnectOptions

VARZ = "$SYS.REQ.SERVER.PING.VARZ"


def _trusted(payload: bytes) -> tuple[str, list[str]]:
    try:
        reply: Any = json.loads(payload)
        server = reply["server"]
        data = reply["data"]
        name = str(server.get("name") or server.get("id"))
        found: list[str] = []
        for claim in data.get("trusted_operators_claim") or []:
            found.append(str(claim["sub"]))
            found.extend(str(k) for k in (claim.get("nats") or {}).get("signing_keys") or [])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadReply(f"a VARZ reply is not what nats-server sends: {exc}") from None
    return name, found


async def trusted_keys_async(
    opts: ConnectOptions, timeout: float = 1.0, expect: int | None = None
) -> dict[str, list[str]]:
    """{server name: operator identity and signing keys it trusts} for every server replying."""
    nc = await connect(opts)
    try:
        raw = await multi_request(nc, VARZ, b"{}", timeout, expect)
    finally:
        await nc.close()
    return dict(_trusted(p) for p in raw)


def trusted_keys(
    opts: ConnectOptions, timeout: float = 1.0, expect: int | None = None
) -> dict[str, list[str]]:
    """Blocking trusted_keys_async."""
    found: dict[str, list[str]] = _run(trusted_keys_async(opts, timeout, expect))
    return found
