"""Account resolvers: where account JWTs live, and the $SYS.REQ.* claims API over the bus.

`MEMORY` keeps the preloaded JWTs and answers only `$SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE` (for
accounts already loaded). `full` keeps `<dir>/<ACCOUNT>.jwt` files and answers UPDATE (both
forms), LIST, LOOKUP, PACK and DELETE. Replies carry the same JSON as nats-server 2.15.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server_stub.bus import BusMessage

UPDATE = "$SYS.REQ.CLAIMS.UPDATE"
ACCOUNT_UPDATE = "$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE"
LOOKUP = "$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP"
LIST = "$SYS.REQ.CLAIMS.LIST"
DELETE = "$SYS.REQ.CLAIMS.DELETE"
PACK = "$SYS.REQ.CLAIMS.PACK"

FEATURE_FLAGS = {
    "js_ack_fc_v2": False,
    "js_api_reply_v2": False,
    "js_raft_delete_range": True,
    "js_snapshot_sources": False,
}


class ClaimsError(Exception):
    """A refused update or delete: the `error` object of the reply."""

    def __init__(self, description: str, account: str | None = "n/a", code: int = 500) -> None:
        super().__init__(description)
        self.description = description
        self.account = account
        self.code = code


class AccountStore:
    """Account JWTs by public key, in memory and, for the full resolver, in `dir`."""

    def __init__(self, directory: Path | None = None, allow_delete: bool = False) -> None:
        self.dir = directory
        self.allow_delete = allow_delete
        self.jwts: dict[str, str] = {}
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            for path in directory.glob("*.jwt"):
                self.jwts[path.stem] = path.read_text().strip()

    @property
    def full(self) -> bool:
        """True for the directory-backed (full) resolver."""
        return self.dir is not None

    def get(self, account: str) -> str | None:
        """The stored JWT of account."""
        return self.jwts.get(account)

    def put(self, account: str, token: str) -> None:
        """Store (and for the full resolver, write atomically to `<dir>/<account>.jwt`)."""
        self.jwts[account] = token
        if self.dir is not None:
            path = self.dir / f"{account}.jwt"
            tmp = path.with_suffix(".jwt.tmp")
            tmp.write_text(token)
            os.replace(tmp, path)

    def delete(self, account: str) -> None:
        """Forget account; its file is renamed to `.jwt.deleted` as nats-server does."""
        self.jwts.pop(account, None)
        if self.dir is not None:
            path = self.dir / f"{account}.jwt"
            if path.exists():
                os.replace(path, path.with_suffix(".jwt.deleted"))

    def accounts(self) -> list[str]:
        """Stored account keys, sorted."""
        return sorted(self.jwts)


Updater = Callable[[str, str | None], tuple[str, str]]  # (jwt, subject account) -> (account, msg)
Deleter = Callable[[str], list[str]]  # (delete request jwt) -> deleted accounts


class ResolverService:
    """Internal subscriptions in the system account answering the claims API."""

    def __init__(self, server: Any, store: AccountStore, system_account: str) -> None:
        self.server = server
        self.store = store
        self.system = system_account
        self.seq = itertools.count(1)
        self.update: Updater | None = None
        self.remove: Deleter | None = None

    def attach(self, update: Updater, remove: Deleter) -> None:
        """Subscribe the handlers; `update`/`remove` apply changes (raising ClaimsError)."""
        self.update, self.remove = update, remove
        sub = self.server.subscribe
        sub(self.system, ACCOUNT_UPDATE, self._on_update)
        if self.store.full:
            sub(self.system, UPDATE, self._on_update)
            sub(self.system, LOOKUP, self._on_lookup)
            sub(self.system, LIST, self._on_list)
            sub(self.system, PACK, self._on_pack)
            sub(self.system, DELETE, self._on_delete)

    def server_info(self) -> dict[str, Any]:
        """The `server` object every reply carries."""
        now = datetime.datetime.now(datetime.timezone.utc)
        return {
            "name": self.server.name,
            "host": self.server.options.host,
            "id": self.server.server_id,
            "ver": _version(),
            "feature_flags": FEATURE_FLAGS,
            "jetstream": self.server.options.jetstream is not None,
            "flags": 0,
            "seq": next(self.seq),
            "time": now.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z",
        }

    def _reply(self, msg: BusMessage, body: dict[str, Any] | bytes) -> None:
        if not msg.reply:
            return
        data = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":"))
        payload = data if isinstance(data, bytes) else data.encode()
        self.server.publish(self.system, msg.reply, payload)

    def _ok(self, msg: BusMessage, account: str | None, message: str) -> None:
        data: dict[str, Any] = {"account": account} if account is not None else {}
        data.update(code=200, message=message)
        self._reply(msg, {"server": self.server_info(), "data": data})

    def _error(self, msg: BusMessage, exc: ClaimsError) -> None:
        error: dict[str, Any] = {"account": exc.account} if exc.account is not None else {}
        error.update(code=exc.code, description=exc.description)
        self._reply(msg, {"server": self.server_info(), "error": error})

    def _on_update(self, msg: BusMessage) -> None:
        assert self.update is not None
        token = msg.payload.decode("utf-8", "replace").strip()
        in_subject = msg.subject.split(".")[3] if msg.subject != UPDATE else None
        try:
            account, message = self.update(token, in_subject)
        except ClaimsError as exc:
            self._error(msg, exc)
            return
        self._ok(msg, account, message)

    def _on_lookup(self, msg: BusMessage) -> None:
        token = self.store.get(msg.subject.split(".")[3])
        if token is not None:  # nats-server stays silent for an unknown account
            self._reply(msg, token.encode())

    def _on_list(self, msg: BusMessage) -> None:
        # nats-server writes data before server in this one reply
        self._reply(msg, {"data": self.store.accounts(), "server": self.server_info()})

    def _on_pack(self, msg: BusMessage) -> None:
        for account in self.store.accounts():
            token = self.store.get(account) or ""
            self._reply(msg, f"{account}|{token}".encode())
        self._reply(msg, b"")

    def _on_delete(self, msg: BusMessage) -> None:
        assert self.remove is not None
        try:
            deleted = self.remove(msg.payload.decode("utf-8", "replace").strip())
        except ClaimsError as exc:
            self._error(msg, exc)
            return
        self._ok(msg, None, f"deleted {len(deleted)} accounts")


def _version() -> str:
    from server_stub.server import VERSION

    return VERSION
