"""Streams whose files could not be recovered: what their API calls are answered.

nats-server keeps serving an account when one stream cannot be loaded; so does the stub. Such
a stream is offline: its requests get 500 / 10194 "stream is offline: <reason>", STREAM.LIST
names it under `offline`, and STREAM.DELETE discards its files (which frees the name).
"""

from __future__ import annotations

import logging
from typing import Any

from server_stub.jetstream import errors
from server_stub.jetstream.api import not_enabled_response
from server_stub.jetstream.storage import StreamFiles

log = logging.getLogger("server_stub.jetstream")


class OfflineStreams:
    """The offline streams of every account, with the reason each could not be recovered."""

    def __init__(self, files: StreamFiles) -> None:
        self._files = files
        self._reasons: dict[tuple[str, str], str] = {}

    def recovered(self, account: str, offline: dict[str, str]) -> None:
        """An account's recovery found these offline (and none else: repaired ones return)."""
        for key in [k for k in self._reasons if k[0] == account]:
            del self._reasons[key]
        for name, reason in offline.items():
            self._reasons[(account, name)] = reason

    def listed(self, account: str) -> dict[str, str]:
        """Name -> reason, for STREAM.LIST's `offline` map."""
        return dict(sorted((s, why) for (a, s), why in self._reasons.items() if a == account))

    def owns(self, account: str, subject: str) -> bool:
        """True when the API request names an offline stream."""
        named = _stream_named_in(subject)
        return named is not None and (account, named) in self._reasons

    def answer(self, account: str, subject: str) -> dict[str, Any] | None:
        """The answer to a request `owns()` claimed: DELETE works, everything else is refused."""
        stream = _stream_named_in(subject) or ""
        response = not_enabled_response(subject)
        if response is None:
            return None
        if subject == f"$JS.API.STREAM.DELETE.{stream}":
            del self._reasons[(account, stream)]
            self._files.remove_stream(account, stream)
            log.warning("JetStream offline stream '%s > %s' deleted", account, stream)
            response.pop("error")
            response["success"] = True
            return response
        reason = self._reasons[(account, stream)]
        response["error"] = errors.stream_offline(
            f"{reason}; delete the stream to discard its files"
        ).to_json()
        return response


def _stream_named_in(subject: str) -> str | None:
    """The stream an API request names: `$JS.API.STREAM.<op>.<stream>`, `...STREAM.MSG.<op>.
    <stream>`, `...CONSUMER.<op>.<stream>[...]` or `...CONSUMER.DURABLE.CREATE.<stream>.<c>`."""
    tokens = subject.split(".")
    if len(tokens) < 5:
        return None
    if tokens[2] == "STREAM" and tokens[3] not in ("NAMES", "LIST"):
        return tokens[5] if tokens[3] == "MSG" and len(tokens) > 5 else tokens[4]
    if tokens[2] == "CONSUMER":
        return tokens[5] if tokens[3] == "DURABLE" and len(tokens) > 5 else tokens[4]
    return None
