"""Account resolvers: where account JWTs live, and the $SYS.REQ.* claims API over the bus.

`MEMORY` keeps the preloaded JWTs and answers only `$SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE` (for
accounts already loaded). `full` keeps `<dir>/<ACCOUNT>.jwt` files and answers UPDATE (both
forms), LIST, LOOKUP, PACK and DELETE. Replies carry the same JSON as nats-server 2.15.

The directory is created 0700 and each JWT written 0600 whatever the umask, through a temp file
opened O_CREAT|O_EXCL (which, like O_NOFOLLOW, refuses a planted symbolic link), then renamed
over the old name (rename replaces a link, it never writes through it). Loading opens each file
with O_NOFOLLOW: a link planted in a directory others can write is skipped with a warning.
"""

from __future__ import annotations

import datetime
import itertools
import json
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nscpy.store.atomic import atomic_write, ensure_dir
from nscpy.store.errors import StoreIOError
from server_stub.bus import BusMessage
from server_stub.hooks import ServiceHost
from server_stub.version import VERSION

log = logging.getLogger("server_stub")

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
            ensure_dir(directory)
            mode = directory.stat().st_mode
            if mode & (stat.S_IWGRP | stat.S_IWOTH):
                log.warning(
                    "resolver dir %s is writable by others (mode %04o): anyone who can write"
                    " there can plant account JWTs; chmod 700 it",
                    directory,
                    stat.S_IMODE(mode),
                )
            for path in sorted(directory.glob("*.jwt")):
                token = _read_no_follow(path)
                if token is not None:
                    self.jwts[path.stem] = token

    @property
    def full(self) -> bool:
        """True for the directory-backed (full) resolver."""
        return self.dir is not None

    def get(self, account: str) -> str | None:
        """The stored JWT of account."""
        return self.jwts.get(account)

    def put(self, account: str, token: str) -> None:
        """Store (and for the full resolver, write atomically to `<dir>/<account>.jwt`)."""
        if self.dir is not None:
            atomic_write(self.dir / f"{account}.jwt", token)
        self.jwts[account] = token

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

    def __init__(self, server: ServiceHost, store: AccountStore, system_account: str) -> None:
        self.server = server
        self.store = store
        self.system = system_account
        self.seq = itertools.count(1)
        self.update: Updater | None = None
        self.remove: Deleter | None = None
        self._sids: list[int] = []

    def close(self) -> None:
        """Drop the handlers' subscriptions (the server is stopping)."""
        for sid in self._sids:
            self.server.unsubscribe(sid)
        self._sids.clear()

    def attach(self, update: Updater, remove: Deleter) -> None:
        """Subscribe the handlers; `update`/`remove` apply changes (raising ClaimsError)."""
        self.update, self.remove = update, remove
        handlers = {ACCOUNT_UPDATE: self._on_update}
        if self.store.full:
            handlers.update(
                {
                    UPDATE: self._on_update,
                    LOOKUP: self._on_lookup,
                    LIST: self._on_list,
                    PACK: self._on_pack,
                    DELETE: self._on_delete,
                }
            )
        for subject, handler in handlers.items():
            self._sids.append(self.server.subscribe(self.system, subject, handler))

    def server_info(self) -> dict[str, Any]:
        """The `server` object every reply carries."""
        now = datetime.datetime.now(datetime.timezone.utc)
        return {
            "name": self.server.name,
            "host": self.server.options.host,
            "id": self.server.server_id,
            "ver": VERSION,
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
        except StoreIOError as exc:  # the disk refused: say so instead of a silent timeout
            log.error("resolver: %s", exc)
            self._error(msg, ClaimsError(f"could not store the account JWT: {exc}"))
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


def _read_no_follow(path: Path) -> str | None:
    """A stored JWT, or None (logged) when the name is a symbolic link or cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        log.warning("resolver: skipping %s: %s", path, exc.strerror or exc)
        return None
    with os.fdopen(fd, "rb") as f:
        return f.read().decode("utf-8", "replace").strip()
