"""Service exports' response_type, differential: how many replies cross back to the importer.

A Singleton service (the default) routes one reply back to the requesting account; Stream and
Chunked services route every reply. The same story runs on nats-server and on the stub at once.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import nats
import pytest

from nscpy import jwt
from tests.server_stub.chain import Chain
from tests.server_stub.harness import real_server, run, stub_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

TYPES = {"single": "", "singleton": "Singleton", "stream": "Stream", "chunked": "Chunked"}


def exports(claims: jwt.AccountClaims) -> None:
    claims.exports = [
        jwt.Export(subject=f"svc.{name}", type="service", response_type=kind)
        for name, kind in TYPES.items()
    ]


async def until_served(client: Any, subject: str) -> None:
    """Wait until a request through the import is answered.

    Under CI load nats-server once answered the first request after both users connected with
    503 no-responders (the service had subscribed and flushed); what is compared here is the
    response types, not how soon after connecting an import starts to serve.
    """
    for _ in range(100):
        try:
            await client.request(subject, b"", timeout=1)
            return
        except nats.errors.NoRespondersError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{subject} was never served")


def test_response_types(tmp_path) -> None:
    chain = Chain.create(tmp_path, "SVC", "CLIENT")
    svc = chain.pub("SVC")

    def imports(claims: jwt.AccountClaims) -> None:
        claims.imports = [
            jwt.Import(subject=f"svc.{name}", account=svc, type="service") for name in TYPES
        ]

    chain.edits = {"SVC": [exports], "CLIENT": [imports]}
    responder, requester = chain.user("SVC"), chain.user("CLIENT")

    async def story(url: str) -> dict[str, Any]:
        connect = {"max_reconnect_attempts": 0, "allow_reconnect": False}
        service = await nats.connect(url, user_credentials=str(responder.path), **connect)
        client = await nats.connect(url, user_credentials=str(requester.path), **connect)

        async def answer(msg: Any) -> None:
            for i in range(3):
                await service.publish(msg.reply, b"part %d" % i)

        await service.subscribe("svc.*", cb=answer)
        await service.flush()
        await until_served(client, "svc.singleton")
        out: dict[str, Any] = {}
        for name in TYPES:
            inbox = client.new_inbox()
            sub = await client.subscribe(inbox)
            await client.publish(f"svc.{name}", b"", reply=inbox)
            got = []
            while True:
                try:
                    msg = await sub.next_msg(timeout=0.3)
                    # a status (503 no responders) is kept as such, so a failure says what came
                    status = (msg.headers or {}).get("Status")
                    got.append(msg.data if status is None else f"status {status}")
                except nats.errors.TimeoutError:
                    break
            out[name] = got
            # a second request through the same import still works after the first closed
            out[name + "_again"] = (await client.request(f"svc.{name}", b"", timeout=1)).data
        await service.close()
        await client.close()
        return out

    confs = chain.config("svc-real"), chain.config("svc-stub")
    with real_server(confs[0]) as real, stub_server(confs[1]) as stub:

        async def go() -> list[Any]:
            return list(await asyncio.gather(story(real), story(stub)))

        a, b = run(go(), timeout=40)
    gc.collect()
    assert a == b, f"\nnats-server {a!r}\nstub        {b!r}"
    assert a["stream"] == [b"part 0", b"part 1", b"part 2"]
