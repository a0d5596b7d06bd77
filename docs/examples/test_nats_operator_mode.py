"""Operator-mode NATS in a test suite, with the nscpy.testing pytest plugin.

Run it on the bundled server (the default) or on the real nats-server:

    pytest docs/examples/test_nats_operator_mode.py
    pytest docs/examples/test_nats_operator_mode.py --nats-server=real
"""

import asyncio

import nats.errors
import nats.js.errors
import pytest


def run(coro):
    """asyncio.run with an upper bound, so a hung test fails instead of hanging."""
    return asyncio.run(asyncio.wait_for(coro, 30))


def test_permissions_allow_and_deny(nats_server, nats_account, nats_user, nats_connect):
    shop = nats_account("SHOP")
    clerk = nats_user(
        shop,
        "clerk",
        allow_pub="orders.>",
        deny_pub="orders.secret",
        allow_sub=["orders.>", "_INBOX.>"],
    )

    async def main():
        errors = []

        async def on_error(exc):
            errors.append(str(exc))

        nc = await nats_connect(clerk, error_cb=on_error)
        sub = await nc.subscribe("orders.>")
        await nc.publish("orders.secret", b"denied")
        await nc.publish("orders.1", b"allowed")
        await nc.flush()
        msg = await sub.next_msg(timeout=5)
        assert (msg.subject, msg.data) == ("orders.1", b"allowed")
        with pytest.raises(nats.errors.TimeoutError):
            await sub.next_msg(timeout=0.3)  # the denied message never arrived
        for _ in range(50):  # the server's -ERR arrives asynchronously
            if errors:
                break
            await asyncio.sleep(0.05)
        assert any("permissions violation" in e.lower() for e in errors), errors

    run(main())


def test_revoked_user_is_refused(nats_server, nats_account, nats_user, nats_connect):
    shop = nats_account("SHOP")
    temp = nats_user(shop, "temp")

    async def connect_and_ping():
        nc = await nats_connect(temp)
        await nc.flush()
        await nc.close()

    run(connect_and_ping())  # accepted before the revocation
    shop.revoke(temp)  # re-signs SHOP and pushes it to the running server
    with pytest.raises(Exception, match="(?i)authorization|revoked"):
        run(connect_and_ping())


def test_service_import(nats_server, nats_account, nats_user, nats_connect):
    pricing = nats_account("PRICING")
    pricing.export_service("price.>")
    app = nats_account("APP")
    app.import_service(pricing, "price.>")
    responder = nats_user(pricing, "responder")
    client = nats_user(app, "client")

    async def main():
        service = await nats_connect(responder)

        async def answer(msg):
            await msg.respond(b"42 for " + msg.subject.encode())

        await service.subscribe("price.>", cb=answer)
        await service.flush()
        nc = await nats_connect(client)
        reply = await nc.request("price.apple", b"", timeout=5)
        assert reply.data == b"42 for price.apple"

    run(main())


def test_jetstream_limits(nats_server, nats_account, nats_user, nats_connect):
    data = nats_account(
        "DATA", jetstream={"mem_storage": 1 << 20, "disk_storage": 1 << 20, "streams": 1}
    )
    writer = nats_user(data, "writer")

    async def main():
        nc = await nats_connect(writer)
        js = nc.jetstream()
        await js.add_stream(name="ORDERS", subjects=["orders.>"])
        ack = await js.publish("orders.1", b"one")
        assert (ack.stream, ack.seq) == ("ORDERS", 1)
        with pytest.raises(nats.js.errors.APIError) as refused:
            await js.add_stream(name="MORE", subjects=["more.>"])
        assert "maximum" in str(refused.value.description).lower()

    run(main())
