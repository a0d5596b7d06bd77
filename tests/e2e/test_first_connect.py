"""The first end-to-end check: a store made by nscpy lets nats-py talk to a real nats-server.

Operator, SYS and an application account are created through the same actions the CLI uses;
the memory-resolver config preloads their JWTs; the user connects with the creds nscpy wrote.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
import pytest
from nats.errors import Error as NatsError

from nscpy.actions.accounts import AccountSpec, add_account
from nscpy.actions.operators import OperatorSpec, add_operator
from nscpy.actions.permspec import PermissionSpec
from nscpy.actions.users import UserSpec, add_user
from nscpy.actions.workspace import Workspace
from nscpy.jwt import peek
from nscpy.serverconfig import AccountEntry, mem_resolver_config
from tests.support.natsserver import nats_server

pytestmark = pytest.mark.e2e


def _mem_config(ws: Workspace, operator: str) -> str:
    op = peek(ws.store.read_operator(operator))
    entries = []
    for account in ws.store.list_accounts(operator):
        token = ws.store.read_account(operator, account).strip()
        entries.append(AccountEntry(account, peek(token).subject, token))
    system_account = getattr(op, "system_account", "") or None
    return mem_resolver_config(
        operator, ws.store.read_operator(operator).strip(), system_account, entries
    )


def test_nscpy_creds_connect_to_real_nats_server(tmp_path: Path) -> None:
    ws = Workspace.open(all_dirs=str(tmp_path / "nsc"), env={})
    add_operator(ws, OperatorSpec("O", sys=True))
    add_account(ws, AccountSpec("APP"))
    perms = PermissionSpec(
        allow_pub=["orders.>"], deny_pub=["orders.secret"], allow_sub=["orders.>", "_INBOX.>"]
    )
    [user] = add_user(ws, UserSpec("alice", account="APP", permissions=perms))
    assert user.creds_path is not None

    async def scenario(url: str) -> tuple[bytes, str]:
        errors: list[Exception] = []

        async def on_error(exc: Exception) -> None:
            errors.append(exc)

        nc = await nats.connect(url, user_credentials=str(user.creds_path), error_cb=on_error)
        try:
            sub = await nc.subscribe("orders.new")
            await nc.publish("orders.new", b"hello")
            msg = await sub.next_msg(timeout=5)
            await nc.publish("orders.secret", b"nope")
            await nc.flush()
            for _ in range(50):
                if errors:
                    break
                await asyncio.sleep(0.05)
            return msg.data, str(errors[0]) if errors else ""
        finally:
            await nc.close()

    with nats_server(tmp_path / "srv", _mem_config(ws, "O")) as server:
        data, error = asyncio.run(scenario(server.url))
    assert data == b"hello"
    assert 'permissions violation for publish to "orders.secret"' in error.lower()


def test_unknown_user_key_is_refused(tmp_path: Path) -> None:
    ws = Workspace.open(all_dirs=str(tmp_path / "nsc"), env={})
    add_operator(ws, OperatorSpec("O", sys=True))
    add_account(ws, AccountSpec("APP"))
    config = _mem_config(ws, "O")
    # a second store with its own operator: its user's chain is not trusted by the server
    other = Workspace.open(all_dirs=str(tmp_path / "other"), env={})
    add_operator(other, OperatorSpec("X"))
    add_account(other, AccountSpec("APP"))
    [stranger] = add_user(other, UserSpec("mallory", account="APP"))

    async def scenario(url: str) -> None:
        await nats.connect(
            url,
            user_credentials=str(stranger.creds_path),
            allow_reconnect=False,
            max_reconnect_attempts=0,
            connect_timeout=3,
        )

    with nats_server(tmp_path / "srv", config) as server:
        with pytest.raises((NatsError, OSError)) as info:
            asyncio.run(scenario(server.url))
    assert "authorization violation" in str(info.value).lower(), repr(info.value)
