"""The resolver's claims API on the server's in-process MessageBus, without sockets: requests
on $SYS.REQ.* subjects go through the real router to ResolverService, and replies come back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from server_stub.bus import BusMessage
from server_stub.options import ServerOptions
from server_stub.resolver import (
    LIST,
    PACK,
    UPDATE,
    AccountStore,
    ClaimsError,
    ResolverService,
)
from server_stub.server import Server

SYS = "A" + "S" * 55
ACC = "A" + "B" * 55


class Requester:
    """Publishes requests in the system account and collects what comes back on its inbox."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.replies: list[bytes] = []
        server.subscribe(SYS, "_INBOX.test", lambda msg: self.replies.append(msg.payload))

    def request(self, subject: str, payload: bytes = b"") -> list[bytes]:
        self.replies.clear()
        self.server.publish(SYS, subject, payload, reply="_INBOX.test")
        return list(self.replies)


def service(tmp_path: Path, full: bool = True) -> tuple[Server, ResolverService, Requester]:
    server = Server(ServerOptions(port=0, server_name="stub-1"))
    store = AccountStore(tmp_path / "jwt" if full else None, allow_delete=True)
    resolver = ResolverService(server, store, SYS)
    applied: list[tuple[str, str | None]] = []

    def update(token: str, account: str | None) -> tuple[str, str]:
        if token == "bad":
            raise ClaimsError("jwt update resulted in error - expected 3 chunks")
        applied.append((token, account))
        store.put(account or ACC, token)
        return account or ACC, "jwt updated"

    def remove(token: str) -> list[str]:
        raise ClaimsError("delete accounts request by X failed - not trusted", None)

    resolver.attach(update, remove)
    return server, resolver, Requester(server)


def _json(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw)
    assert isinstance(value, dict)
    return value


def test_update_replies_with_the_server_block_and_the_account(tmp_path: Path) -> None:
    server, _, client = service(tmp_path)
    (reply,) = client.request(UPDATE, b"token-1\n")
    answer = _json(reply)
    assert answer["data"] == {"account": ACC, "code": 200, "message": "jwt updated"}
    assert answer["server"]["name"] == "stub-1" and answer["server"]["id"] == server.server_id
    (reply,) = client.request(f"$SYS.REQ.ACCOUNT.{ACC}.CLAIMS.UPDATE", b"token-2")
    assert _json(reply)["data"]["account"] == ACC


def test_refusals_carry_code_and_description(tmp_path: Path) -> None:
    _, _, client = service(tmp_path)
    (reply,) = client.request(UPDATE, b"bad")
    assert _json(reply)["error"] == {
        "account": "n/a",
        "code": 500,
        "description": "jwt update resulted in error - expected 3 chunks",
    }
    (reply,) = client.request("$SYS.REQ.CLAIMS.DELETE", b"x")
    assert _json(reply)["error"]["description"].endswith("not trusted")
    assert "account" not in _json(reply)["error"]


def test_lookup_list_and_pack(tmp_path: Path) -> None:
    _, _, client = service(tmp_path)
    client.request(UPDATE, b"token-1")
    assert client.request(f"$SYS.REQ.ACCOUNT.{ACC}.CLAIMS.LOOKUP") == [b"token-1"]
    assert client.request(f"$SYS.REQ.ACCOUNT.{SYS}.CLAIMS.LOOKUP") == []  # unknown: silent
    listed = _json(client.request(LIST)[0])
    assert listed["data"] == [ACC] and list(listed) == ["data", "server"]
    assert client.request(PACK) == [f"{ACC}|token-1".encode(), b""]


def test_a_memory_resolver_answers_only_account_updates(tmp_path: Path) -> None:
    _, _, client = service(tmp_path, full=False)
    assert client.request(LIST) == []
    assert client.request(UPDATE, b"token") == []
    (reply,) = client.request(f"$SYS.REQ.ACCOUNT.{ACC}.CLAIMS.UPDATE", b"token")
    assert _json(reply)["data"]["code"] == 200


def test_close_drops_the_subscriptions(tmp_path: Path) -> None:
    _, resolver, client = service(tmp_path)
    resolver.close()
    assert client.request(LIST) == []


@pytest.mark.parametrize("subject", [UPDATE, LIST])
def test_requests_without_a_reply_subject_get_no_answer(tmp_path: Path, subject: str) -> None:
    server, _, client = service(tmp_path)
    seen: list[BusMessage] = []
    server.subscribe(SYS, ">", seen.append)
    server.publish(SYS, subject, b"token")
    assert [m.subject for m in seen] == [subject]  # only the request itself
    assert client.replies == []
