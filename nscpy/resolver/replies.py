"""Typed views of the JSON a nats-server resolver sends back on the `$SYS.REQ.CLAIMS.*` subjects.

Pure: bytes in, frozen dataclasses out. Every server in a cluster answers on its own, so callers
get one `ServerReply` per message. nsc's rule decides success, and we keep it: a reply counts as
failed when it has no `server.name`, carries an `error`, or lacks `data`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from nscpy.resolver.errors import BadReply

__all__ = ["ReplyError", "ServerIdentity", "ServerReply", "parse_reply"]


@dataclass(frozen=True)
class ServerIdentity:
    """Which server answered (from the reply's `server` object)."""

    name: str = ""
    id: str = ""
    host: str = ""
    cluster: str = ""
    version: str = ""

    @property
    def label(self) -> str:
        """A name a person recognises: the server name, else its id, else a placeholder."""
        return self.name or self.id or "<unnamed server>"


@dataclass(frozen=True)
class ReplyError:
    """The `error` object of a failed reply."""

    code: int
    description: str
    account: str = ""


@dataclass(frozen=True)
class ServerReply:
    """One server's answer to one request."""

    server: ServerIdentity
    data: Any = None
    error: ReplyError | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """nsc's rule: a named server, no error, and some data."""
        return bool(self.server.name) and self.error is None and self.data is not None

    @property
    def account(self) -> str:
        """The account the reply is about, when the server said so."""
        if self.error is not None and self.error.account:
            return self.error.account
        if isinstance(self.data, dict):
            return str(self.data.get("account", ""))
        return ""

    @property
    def message(self) -> str:
        """The server's message on success, or its error description (or why it counts failed)."""
        if self.error is not None:
            return self.error.description
        if not self.server.name:
            return "reply names no server"
        if self.data is None:
            return "reply has no data"
        if isinstance(self.data, dict):
            return str(self.data.get("message", ""))
        return ""

    @property
    def code(self) -> int:
        """The status code the server put in `data` or `error` (0 when absent)."""
        if self.error is not None:
            return self.error.code
        if isinstance(self.data, dict):
            code = self.data.get("code", 0)
            return code if isinstance(code, int) else 0
        return 0

    def describe(self) -> str:
        """One line for a report: `<server>: <message>` or `<server>: failed: <description>`."""
        if self.ok:
            return f"{self.server.label}: {self.message}"
        return f"{self.server.label}: failed: {self.message}"


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key, "")
    return value if isinstance(value, str) else str(value)


def parse_reply(payload: bytes) -> ServerReply:
    """Parse one reply message; raise BadReply when it is not a JSON object."""
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        preview = payload[:60].decode("utf-8", "replace")
        raise BadReply(f"server reply is not JSON: {preview!r}") from None
    if not isinstance(doc, dict):
        raise BadReply(f"server reply must be a JSON object, got {type(doc).__name__}")

    server_obj = doc.get("server")
    server = ServerIdentity()
    if isinstance(server_obj, dict):
        server = ServerIdentity(
            name=_text(server_obj, "name"),
            id=_text(server_obj, "id"),
            host=_text(server_obj, "host"),
            cluster=_text(server_obj, "cluster"),
            version=_text(server_obj, "ver"),
        )

    error: ReplyError | None = None
    error_obj = doc.get("error")
    if isinstance(error_obj, dict):
        code = error_obj.get("code", 0)
        error = ReplyError(
            code=code if isinstance(code, int) else 0,
            description=_text(error_obj, "description") or "server reported an error",
            account=_text(error_obj, "account"),
        )
    elif error_obj is not None:
        error = ReplyError(code=0, description=str(error_obj))

    return ServerReply(server=server, data=doc.get("data"), error=error, raw=doc)
