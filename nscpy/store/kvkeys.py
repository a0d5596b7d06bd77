"""Pure rules of the KV store: the store URL, and data-store paths <-> KV keys.

A KV store mirrors the directory layout exactly: the file ``<root>/O/accounts/A/A.jwt`` is the
key ``O.accounts.A.A=2Ejwt``. Each path component is one subject token; bytes outside
``[A-Za-z0-9_-]`` (the dot included, so tokens never split) are written ``=XX`` in upper-case hex
of the UTF-8 encoding. The mapping is a bijection, so migrating a directory to KV and back is
lossless, and a key filter such as ``O.accounts.*.users.*`` lists one account's users.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from nscpy.errors import NscValueError

__all__ = [
    "STORE_SCHEMES",
    "contains_seed",
    "KvStoreSpec",
    "decode_key",
    "decode_part",
    "encode_key",
    "encode_part",
    "is_store_url",
    "parse_store_url",
]

STORE_SCHEMES = ("nats", "tls")
_SAFE = re.compile(r"[A-Za-z0-9_-]")
_ESCAPE = re.compile(r"=([0-9A-F]{2})")
_BUCKET = re.compile(r"\A[A-Za-z0-9_-]+\Z")
_QUERY_KEYS = ("bucket", "replicas", "history")
DEFAULT_HISTORY = 64  # the most a KV bucket keeps per key


_SEED_CANDIDATE = re.compile(rb"S[A-Z2-7]{57}")


def contains_seed(data: bytes) -> bool:
    """True if data holds an NKey seed (a checksummed 'S...' string): never for the bucket."""
    from nscpy.keys import NKeyError, decode_seed

    for found in _SEED_CANDIDATE.finditer(data):
        try:
            decode_seed(found.group().decode("ascii"))
            return True
        except NKeyError:
            continue
    return False


def encode_part(part: str) -> str:
    """One path component as one KV key token (see the module doc)."""
    if not part:
        raise NscValueError("an empty path component cannot be a KV key token")
    out = []
    for c in part:
        if _SAFE.fullmatch(c):
            out.append(c)
        else:
            out.extend(f"={b:02X}" for b in c.encode("utf-8"))
    return "".join(out)


def decode_part(token: str) -> str:
    """The path component a KV key token stands for; NscValueError if it is not one we wrote."""
    if not token or not all(_SAFE.fullmatch(c) or c == "=" for c in token):
        raise NscValueError(f"{token!r} is not an nscpy KV key token")
    raw = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(token):
        raw += token[pos : m.start()].encode("ascii")
        raw.append(int(m.group(1), 16))
        pos = m.end()
    raw += token[pos:].encode("ascii")
    try:
        part = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NscValueError(f"{token!r} does not decode to UTF-8") from None
    if encode_part(part) != token:  # only the canonical spelling is ours
        raise NscValueError(f"{token!r} is not in canonical nscpy KV key form")
    return part


def encode_key(parts: Sequence[str]) -> str:
    """A relative data-store path (its components) as a KV key."""
    if not parts:
        raise NscValueError("the store root itself is not a KV key")
    return ".".join(encode_part(p) for p in parts)


def decode_key(key: str) -> tuple[str, ...]:
    """The path components a KV key stands for."""
    return tuple(decode_part(t) for t in key.split("."))


class KvStoreSpec(NamedTuple):
    """What `--store nats://h1:p1,h2:p2?bucket=NAME` says."""

    servers: tuple[str, ...]
    bucket: str
    replicas: int | None = None  # None: 3 when the cluster has 3+ servers, else 1
    history: int = DEFAULT_HISTORY

    def display(self) -> str:
        """The store as a user names it (never holds credentials: they come from a file)."""
        hosts = ",".join(s.split("://", 1)[1] for s in self.servers)
        scheme = self.servers[0].split("://", 1)[0]
        return f"{scheme}://{hosts}?bucket={self.bucket}"


def is_store_url(value: str) -> bool:
    """True if value names a KV store rather than a directory."""
    return value.split("://", 1)[0].lower() in STORE_SCHEMES and "://" in value


def parse_store_url(value: str) -> KvStoreSpec:
    """`nats://HOST:PORT[,HOST:PORT...]?bucket=NAME[&replicas=N][&history=N]`; anything else,
    including credentials in the URL and unknown query keys, is NscValueError."""
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in STORE_SCHEMES:
        raise NscValueError(f"store URL must start with nats:// or tls://, got {value!r}")
    if "@" in parts.netloc:
        raise NscValueError(
            "store URL must not carry credentials; pass --store-creds FILE (a .creds file)"
        )
    if parts.path not in ("", "/") or parts.fragment:
        raise NscValueError(f"store URL takes no path or fragment: {value!r}")
    hosts = [h for h in parts.netloc.split(",")]
    if not hosts or any(not _host_port_ok(h) for h in hosts):
        raise NscValueError(f"store URL needs HOST:PORT[,HOST:PORT...], got {parts.netloc!r}")
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(query) - set(_QUERY_KEYS))
    if unknown:
        raise NscValueError(
            f"store URL: unknown option {unknown[0]!r} (known: {', '.join(_QUERY_KEYS)})"
        )
    for key, values in query.items():
        if len(values) != 1:
            raise NscValueError(f"store URL: {key!r} given {len(values)} times")
    bucket = unquote(query.get("bucket", [""])[0])
    if not _BUCKET.fullmatch(bucket):
        raise NscValueError(
            f"store URL needs ?bucket=NAME (letters, digits, '-' and '_'), got {bucket or 'none'!r}"
        )
    replicas = _int_option(query, "replicas", 1, 5)
    history = _int_option(query, "history", 1, DEFAULT_HISTORY)
    return KvStoreSpec(
        servers=tuple(f"{scheme}://{h}" for h in hosts),
        bucket=bucket,
        replicas=replicas,
        history=DEFAULT_HISTORY if history is None else history,
    )


def _host_port_ok(hostport: str) -> bool:
    host, sep, port = hostport.rpartition(":")
    return bool(host) and sep == ":" and port.isdigit() and 0 < int(port) < 65536


def _int_option(query: dict[str, list[str]], key: str, low: int, high: int) -> int | None:
    if key not in query:
        return None
    text = query[key][0]
    if not text.isdigit() or not low <= int(text) <= high:
        raise NscValueError(f"store URL: {key} must be a whole number {low}..{high}, got {text!r}")
    return int(text)
