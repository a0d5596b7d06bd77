"""HTTP/1.1 requests and responses, sans-I/O: what the monitoring port and the WebSocket
upgrade need (a GET with headers, no body), nothing more.

`RequestReader.receive(data)` returns a Request once the blank line after the headers has
arrived, None while it has not; a malformed or oversized request raises HttpError, whose status
the caller answers with before closing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

MAX_HEAD = 16 * 1024  # request line and headers together

_REASONS = {
    101: "Switching Protocols",
    200: "OK",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    426: "Upgrade Required",
    431: "Request Header Fields Too Large",
    501: "Not Implemented",
}


class HttpError(ValueError):
    """A request the server answers with `status` and closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Request:
    """A parsed request head: header names lower-cased, repeated query keys keep the last."""

    method: str
    target: str
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)

    def header_tokens(self, name: str) -> set[str]:
        """A comma-separated header's tokens, lower-cased (Connection: keep-alive, Upgrade)."""
        return {t.strip().lower() for t in self.headers.get(name, "").split(",") if t.strip()}


class RequestReader:
    """Collects bytes until a request head is complete."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def receive(self, data: bytes) -> Request | None:
        """Add bytes; the Request once the head is complete (bytes after it stay buffered)."""
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD:
                raise HttpError(431, "request head too large")
            return None
        head = bytes(self._buffer[:end])
        del self._buffer[: end + 4]
        return parse_head(head)

    def rest(self) -> bytes:
        """What arrived after the head (the first WebSocket frames, for an upgrade)."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        return rest


def parse_head(head: bytes) -> Request:
    """Request line and headers (without the final blank line)."""
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
        raise HttpError(400, "undecodable request") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400, f"bad request line {lines[0]!r}")
    method, target, _ = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HttpError(400, f"bad header line {line!r}")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    url = urlsplit(target)
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    return Request(method, target, unquote(url.path), query, headers)


def response(
    status: int,
    body: bytes = b"",
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> bytes:
    """A complete response; the connection closes after it (Connection: close)."""
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}"]
    if status != 101:
        lines += [
            "Access-Control-Allow-Origin: *",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
