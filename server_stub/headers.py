"""NATS/1.0 header blocks: parse for internal handlers, build for internal publishes."""

from __future__ import annotations


def parse_headers(block: bytes) -> dict[str, str]:
    """Header block → dict; a status line ("NATS/1.0 503 desc") appears as Status/Description."""
    lines = block.decode("utf-8", "replace").split("\r\n")
    out: dict[str, str] = {}
    first = lines[0]
    if first.startswith("NATS/1.0"):
        status = first[8:].strip()
        if status:
            code, _, desc = status.partition(" ")
            out["Status"] = code
            if desc:
                out["Description"] = desc
    for line in lines[1:]:
        if not line:
            continue
        key, sep, value = line.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def build_headers(headers: dict[str, str]) -> bytes:
    """dict → "NATS/1.0\\r\\nK: V\\r\\n\\r\\n"; a Status key becomes the status line."""
    status = headers.get("Status")
    first = "NATS/1.0"
    if status:
        first += " " + status
        if headers.get("Description"):
            first += " " + headers["Description"]
    parts = [first]
    parts.extend(f"{k}: {v}" for k, v in headers.items() if k not in ("Status", "Description"))
    return ("\r\n".join(parts) + "\r\n\r\n").encode()


def no_responders(subject: str) -> bytes:
    """The 503 status block nats-server sends when a request reaches no subscriber."""
    return f"NATS/1.0 503\r\nNats-Subject: {subject}\r\n\r\n".encode("utf-8", "surrogateescape")
