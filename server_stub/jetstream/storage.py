"""The files of file-backed streams under `store_dir/jetstream/<account>/streams/<stream>/`.

Layout (as nats-server's, names aside): `meta.key`, `meta.inf` and `msgs/` per stream (see
filestore), and `obs/<consumer>/{meta.inf,o.dat}` per durable consumer. Everything is sealed
with the stream's own key. Directories are 0700 and files 0600 whatever the umask.

Recovery never gives up on an account: a stream whose key check, config or log cannot be read
is reported offline with the reason (its files stay untouched for an operator), a consumer whose
files are damaged is dropped or restarted from its policy, and every such loss is logged.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server_stub.jetstream import errors
from server_stub.jetstream.crypto import Sealer, make_sealer
from server_stub.jetstream.filestore import FileStore
from server_stub.jetstream.sealedfile import (
    check_key,
    read_sealed_file,
    write_key_check,
    write_sealed_file,
)
from server_stub.jetstream.stream import StreamConfig

log = logging.getLogger("server_stub.jetstream")


@dataclass(slots=True)
class RecoveredConsumer:
    """A durable consumer's saved config and state (None: start from its policy)."""

    name: str
    config: dict[str, Any]
    created: int
    state: dict[str, Any] | None


@dataclass(slots=True)
class RecoveredStream:
    """A stream read back from disk, ready to be served."""

    config: StreamConfig
    store: FileStore
    created: int
    consumers: list[RecoveredConsumer] = field(default_factory=list)


class StreamFiles:
    """Creates, saves, removes and recovers the files of file-backed streams."""

    def __init__(
        self, root: Path, cipher: str | None, master: bytes | None, block_size: int
    ) -> None:
        self.root = root
        self._cipher = cipher
        self._master = master
        self._block_size = block_size
        self._sealers: dict[tuple[str, str], Sealer] = {}

    def stream_dir(self, account: str, stream: str) -> Path:
        """Where a stream's files live."""
        return self.root / account / "streams" / stream

    def sealer(self, account: str, stream: str) -> Sealer:
        """The stream's sealer (derived once, then cached)."""
        key = (account, stream)
        if key not in self._sealers:
            self._sealers[key] = make_sealer(self._cipher, self._master, account, stream, "stream")
        return self._sealers[key]

    # -- writing -------------------------------------------------------------------------
    def create(self, account: str, config: StreamConfig, created: int) -> FileStore:
        """A new stream's files; a failure leaves nothing behind (StoreWriteFailed)."""
        directory = self.stream_dir(account, config.name)
        if directory.exists():  # leftovers of a stream deleted while we were down
            log.warning("JetStream removing the leftovers of a deleted stream in %s", directory)
            shutil.rmtree(directory)
        sealer = self.sealer(account, config.name)
        try:
            check_key(directory, sealer, f"stream {config.name}")
            self.save_stream_meta(account, config, created)
            return FileStore(
                directory,
                sealer,
                block_size=self._block_size,
                label=_label(account, config.name),
                write_behind=True,  # the engine writes out once per loop iteration
            )
        except (errors.StoreWriteFailed, OSError) as exc:
            shutil.rmtree(directory, ignore_errors=True)  # else the next start finds it offline
            if isinstance(exc, errors.StoreWriteFailed):
                raise
            raise errors.StoreWriteFailed(f"cannot create stream {config.name}: {exc}") from exc

    def save_stream_meta(self, account: str, config: StreamConfig, created: int) -> None:
        """Write `meta.inf`: the config nats-server's way (metadata without the _nats keys)."""
        meta = {"config": config.to_json(full_metadata=False), "created": created}
        directory = self.stream_dir(account, config.name)
        write_sealed_file(
            directory / "meta.inf", self.sealer(account, config.name), json.dumps(meta).encode()
        )

    def save_consumer(
        self, account: str, stream: str, name: str, config: dict[str, Any], created: int
    ) -> None:
        """Write a durable consumer's `meta.inf`."""
        meta = {"config": config, "created": created}
        path = self._consumer_dir(account, stream, name) / "meta.inf"
        write_sealed_file(path, self.sealer(account, stream), json.dumps(meta).encode())

    def save_consumer_state(
        self, account: str, stream: str, name: str, state: dict[str, Any], *, sync: bool
    ) -> None:
        """Write a durable consumer's `o.dat` (fsynced when asked)."""
        path = self._consumer_dir(account, stream, name) / "o.dat"
        raw = json.dumps(state).encode()
        write_sealed_file(path, self.sealer(account, stream), raw, sync=sync)

    def remove_stream(self, account: str, stream: str) -> None:
        """Delete a stream's files and forget its key."""
        shutil.rmtree(self.stream_dir(account, stream), ignore_errors=True)
        self._sealers.pop((account, stream), None)

    def remove_consumer(self, account: str, stream: str, name: str) -> None:
        """Delete a durable consumer's files."""
        shutil.rmtree(self._consumer_dir(account, stream, name), ignore_errors=True)

    def _consumer_dir(self, account: str, stream: str, name: str) -> Path:
        return self.stream_dir(account, stream) / "obs" / name

    # -- recovery ------------------------------------------------------------------------
    def recover(self, account: str) -> tuple[list[RecoveredStream], dict[str, str]]:
        """The account's streams that can be served, and why each of the others cannot."""
        streams_dir = self.root / account / "streams"
        found: list[RecoveredStream] = []
        offline: dict[str, str] = {}
        try:
            directories = sorted(p for p in streams_dir.iterdir() if p.is_dir())
        except FileNotFoundError:
            return found, offline
        except OSError as exc:
            log.error("JetStream account %s: cannot list %s: %s", account, streams_dir, exc)
            return found, offline
        for directory in directories:
            try:
                found.append(self._recover_stream(account, directory))
            except Exception as exc:  # whatever the damage, it stays with this one stream
                reason = getattr(exc, "description", None) or str(exc) or type(exc).__name__
                reason = reason.replace(f"{directory}{os.sep}", "")  # no server paths in replies
                offline[directory.name] = reason
                log.error(
                    "JetStream stream %s is offline: %s (its files are kept in %s)",
                    _label(account, directory.name),
                    reason,
                    directory,
                )
        return found, offline

    def _recover_stream(self, account: str, directory: Path) -> RecoveredStream:
        name = directory.name
        sealer = self.sealer(account, name)
        try:
            check_key(directory, sealer, f"stream {name}", create=False)
        except errors.WrongKey:
            raise
        except errors.StoreCorrupted as exc:
            # meta.key only tells a wrong key from damage: if meta.inf opens, the key is right
            read_sealed_file(directory / "meta.inf", sealer)
            log.warning(
                "JetStream stream %s: %s; rewritten, as meta.inf opens with the configured key",
                _label(account, name),
                exc,
            )
            write_key_check(directory, sealer)
        meta = _json(read_sealed_file(directory / "meta.inf", sealer))
        config = StreamConfig.from_request(meta["config"])
        if config.name != name:
            raise errors.StoreCorrupted(f"{directory}/meta.inf names stream {config.name!r}")
        store = FileStore(
            directory,
            sealer,
            block_size=self._block_size,
            label=_label(account, name),
            write_behind=True,  # the engine writes out once per loop iteration
        )
        recovered = RecoveredStream(config, store, int(meta["created"]))
        obs = directory / "obs"
        try:
            for consumer_dir in sorted(obs.iterdir() if obs.is_dir() else []):
                consumer = self._recover_consumer(account, name, consumer_dir, sealer)
                if consumer is not None:
                    recovered.consumers.append(consumer)
        except OSError:
            store.close()
            raise
        return recovered

    def _recover_consumer(
        self, account: str, stream: str, directory: Path, sealer: Sealer
    ) -> RecoveredConsumer | None:
        what = f"consumer {directory.name} of stream {_label(account, stream)}"
        try:
            meta = _json(read_sealed_file(directory / "meta.inf", sealer))
            config, created = meta["config"], int(meta["created"])
            if not isinstance(config, dict):
                raise errors.StoreCorrupted(f"{directory}/meta.inf: config is not an object")
        except Exception as exc:  # whatever the damage, it stays with this one consumer
            log.error("JetStream %s is not served: %s (files kept in %s)", what, exc, directory)
            return None
        state: dict[str, Any] | None = None
        state_path = directory / "o.dat"
        if state_path.exists():
            try:
                state = _json(read_sealed_file(state_path, sealer))
            except Exception as exc:  # the consumer is still served, from its policy
                log.error(
                    "JetStream %s lost its delivery state (%s): it starts again from its "
                    "deliver policy, so messages may be delivered twice",
                    what,
                    exc,
                )
        return RecoveredConsumer(directory.name, config, created, state)


def _label(account: str, stream: str) -> str:
    """How nats-server names a stream in its log: '<account> > <stream>'."""
    return f"'{account} > {stream}'"


def _json(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise errors.StoreCorrupted("stored metadata is not a JSON object")
    return value
