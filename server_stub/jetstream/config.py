"""The `jetstream {}` server block and the per-account limits taken from account JWTs."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nscpy.values import InvalidValue, parse_go_duration
from server_stub.jetstream.errors import JsConfigError

CIPHERS = ("chachapoly", "aes")
_KNOWN_KEYS = {
    "store_dir", "max_memory_store", "max_file_store", "cipher", "key", "domain", "sync_interval",
}  # fmt: skip
_BAD_DOMAIN_CHARS = set(".*> \t\r\n")
_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


@dataclass(frozen=True, slots=True)
class JetStreamConfig:
    """Server-wide JetStream settings; `cipher` None means the store is written in clear."""

    store_dir: Path
    max_memory_store: int = -1
    max_file_store: int = -1
    cipher: str | None = None
    key: bytes | None = None
    domain: str = ""  # served on $JS.<domain>.API as well as $JS.API
    # None: fsync before every ack (group commit); seconds: ack from the page cache and fsync
    # on this period, as nats-server's `sync_interval` (whose default is 2m, not ours)
    sync_interval: float | None = None

    def __repr__(self) -> str:
        # the key is a secret: never let it reach a log line
        return (
            f"JetStreamConfig(store_dir={str(self.store_dir)!r}, cipher={self.cipher!r}, "
            f"key={'<set>' if self.key else None})"
        )


def parse_size(value: object, field: str) -> int:
    """A size as nats-server reads it: an int, or '512MB' / '1G' style text (powers of 1024)."""
    if isinstance(value, bool):
        raise JsConfigError(f"jetstream {field} must be a size like 1G, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            return int(match.group(1)) * _UNITS[match.group(2).lower()]
    raise JsConfigError(f"jetstream {field} must be a size like 1G or 512MB, got {value!r}")


def parse_config(
    block: Mapping[str, Any], *, default_dir: Path, environ: Mapping[str, str] | None = None
) -> JetStreamConfig:
    """Read a parsed `jetstream {}` block; `key: $NAME` is taken from the environment."""
    env = os.environ if environ is None else environ
    block = _canonical(block)
    unknown = sorted(set(block) - _KNOWN_KEYS)
    if unknown:
        raise JsConfigError(
            f"unknown jetstream option {unknown[0]!r}; known: {', '.join(sorted(_KNOWN_KEYS))}"
        )
    store_dir = Path(str(block.get("store_dir", default_dir)))
    key_text = block.get("key")
    if isinstance(key_text, str) and key_text.startswith("$"):
        name = key_text[1:]
        if name not in env:
            raise JsConfigError(f"jetstream key refers to ${name}, which is not set")
        key_text = env[name]
    if key_text is not None and (not isinstance(key_text, str) or not key_text):
        raise JsConfigError("jetstream key must be a non-empty string")
    cipher = block.get("cipher")
    if cipher is not None:
        cipher = str(cipher).lower()
        cipher = "chachapoly" if cipher == "chacha" else cipher
        if cipher not in CIPHERS:
            raise JsConfigError(f"jetstream cipher must be chachapoly or aes, got {cipher!r}")
        if key_text is None:
            raise JsConfigError(f"jetstream cipher {cipher} needs a key")
    elif key_text is not None:
        cipher = "chachapoly"  # nats-server's default when only a key is given
    domain = block.get("domain", "")
    if not isinstance(domain, str) or _BAD_DOMAIN_CHARS & set(domain):
        raise JsConfigError(
            f"jetstream domain must be a name without '.', '*', '>' or spaces: {domain!r}"
        )
    return JetStreamConfig(
        domain=domain,
        sync_interval=parse_sync_interval(block.get("sync_interval", "always")),
        store_dir=store_dir,
        max_memory_store=parse_size(block.get("max_memory_store", -1), "max_memory_store"),
        max_file_store=parse_size(block.get("max_file_store", -1), "max_file_store"),
        cipher=cipher,
        key=key_text.encode() if isinstance(key_text, str) else None,
    )


def parse_sync_interval(value: object) -> float | None:
    """`always` (None: fsync before each ack), a Go duration string, or an integer number of
    seconds, which is how nats-server reads an unquoted `2m` (2,000,000 seconds, with a warning).
    """
    if isinstance(value, str) and value.lower() == "always":
        return None
    seconds: float | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = parse_go_duration(value) / 1e9
        except InvalidValue:
            seconds = None
    if seconds is None or seconds <= 0:
        raise JsConfigError(
            f'jetstream sync_interval must be always or a duration like "2m", got {value!r}'
        )
    return seconds


# nats-server's other spellings of the block's keys (opts.go parseJetStream)
_ALIASES = {
    "store": "store_dir", "storedir": "store_dir", "max_mem_store": "max_memory_store",
    "max_mem": "max_memory_store", "max_file": "max_file_store", "ek": "key",
    "encryption_key": "key",
}  # fmt: skip


def names_store_dir(block: Mapping[str, Any]) -> bool:
    """Whether the block sets store_dir under any of its spellings."""
    return any(_ALIASES.get(str(key).lower(), str(key).lower()) == "store_dir" for key in block)


def _canonical(block: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in block.items():
        name = _ALIASES.get(str(key).lower(), str(key).lower())
        if name in out:
            raise JsConfigError(f"jetstream {name} is given twice (as {key!r} too)")
        out[name] = value
    return out


@dataclass(frozen=True, slots=True)
class JsLimits:
    """One account's JetStream limits, as `$JS.API.INFO` reports them (-1 is unlimited)."""

    max_memory: int = -1
    max_storage: int = -1
    max_streams: int = -1
    max_consumers: int = -1
    max_ack_pending: int = -1
    memory_max_stream_bytes: int = -1
    storage_max_stream_bytes: int = -1
    max_bytes_required: bool = False

    def to_json(self) -> dict[str, Any]:
        """The `limits` object of the account info response."""
        return {
            "max_memory": self.max_memory,
            "max_storage": self.max_storage,
            "max_streams": self.max_streams,
            "max_consumers": self.max_consumers,
            "max_ack_pending": self.max_ack_pending,
            "memory_max_stream_bytes": self.memory_max_stream_bytes,
            "storage_max_stream_bytes": self.storage_max_stream_bytes,
            "max_bytes_required": self.max_bytes_required,
        }


def limits_from_claims(limits: Mapping[str, Any] | None) -> JsLimits | None:
    """JsLimits from an account JWT's `nats.limits`; None when JetStream is not enabled.

    The flat fields (`mem_storage`, `disk_storage`, `streams`, `consumer`, ...) are used, or the
    `R1` tier of `tiered_limits` (the stub runs one replica). An omitted field is 0, and 0
    storage in both kinds means disabled, as in nats-server.
    """
    if not limits:
        return None
    source: Mapping[str, Any] = limits
    tiers = limits.get("tiered_limits")
    if tiers:
        if not isinstance(tiers, Mapping):
            raise JsConfigError("account tiered_limits must be an object")
        source = tiers.get("R1") or next(iter(tiers.values()))
    mem = _int(source, "mem_storage")
    disk = _int(source, "disk_storage")
    if mem == 0 and disk == 0:
        return None

    def stream_bytes(field: str) -> int:
        value = _int(source, field)
        return -1 if value == 0 else value  # 0 means "no per-stream cap" in the JWT

    return JsLimits(
        max_memory=mem,
        max_storage=disk,
        max_streams=_int(source, "streams"),
        max_consumers=_int(source, "consumer"),
        max_ack_pending=_int(source, "max_ack_pending"),
        memory_max_stream_bytes=stream_bytes("mem_max_stream_bytes"),
        storage_max_stream_bytes=stream_bytes("disk_max_stream_bytes"),
        max_bytes_required=bool(source.get("max_bytes_required", False)),
    )


def _int(source: Mapping[str, Any], field: str) -> int:
    value = source.get(field, 0)
    if isinstance(value, bool) or not isinstance(value, int):
        raise JsConfigError(f"account limit {field} must be an integer, got {value!r}")
    return value


# nats-server's spellings of each per-account `jetstream {}` limit (opts.go)
_ACCOUNT_KEYS = {
    "max_memory": "max_memory", "max_mem": "max_memory", "mem": "max_memory",
    "memory": "max_memory", "max_store": "max_storage", "max_file": "max_storage",
    "max_disk": "max_storage", "store": "max_storage", "disk": "max_storage",
    "max_streams": "max_streams", "streams": "max_streams",
    "max_consumers": "max_consumers", "consumers": "max_consumers",
    "max_bytes_required": "max_bytes_required", "max_stream_bytes": "max_bytes_required",
    "max_bytes": "max_bytes_required", "mem_max_stream_bytes": "memory_max_stream_bytes",
    "memory_max_stream_bytes": "memory_max_stream_bytes",
    "disk_max_stream_bytes": "storage_max_stream_bytes",
    "store_max_stream_bytes": "storage_max_stream_bytes", "max_ack_pending": "max_ack_pending",
}  # fmt: skip


def account_limits_from_config(value: object, account: str) -> JsLimits | None:
    """A config-file account's `jetstream` value as nats-server reads it: true / "enabled"
    (unlimited), false / "disabled" (None), or a map of limits (unset ones unlimited)."""
    if isinstance(value, bool):
        return JsLimits() if value else None
    if isinstance(value, str):
        word = value.lower()
        if word in ("enabled", "enable"):
            return JsLimits()
        if word in ("disabled", "disable"):
            return None
        raise JsConfigError(
            f"account {account} jetstream: expected 'enabled' or 'disabled', got {value!r}"
        )
    if not isinstance(value, Mapping):
        raise JsConfigError(f"account {account} jetstream must be a map, bool or string")
    fields: dict[str, Any] = {}
    for key, item in value.items():
        field = _ACCOUNT_KEYS.get(str(key).lower())
        if field is None:
            raise JsConfigError(
                f"account {account} jetstream: unknown limit {key!r};"
                f" known: {', '.join(sorted(_ACCOUNT_KEYS))}"
            )
        if field == "max_bytes_required":
            if not isinstance(item, bool):
                raise JsConfigError(f"account {account} jetstream {key} must be true or false")
            fields[field] = item
        elif isinstance(item, bool) or not isinstance(item, int):  # nats-server: int64 only
            raise JsConfigError(f"account {account} jetstream {key}: expected a size, got {item!r}")
        else:
            fields[field] = item
    return JsLimits(**fields)
