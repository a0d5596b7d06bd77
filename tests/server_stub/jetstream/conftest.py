"""A small in-process MessageBus for driving the engine without the server core, and a disk
that fills up (the file store's write seams) for the fault tests."""

from __future__ import annotations

import errno
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from nscpy.jwt.subject import subject_matches
from server_stub.bus import BusMessage, RawHandler
from server_stub.headers import build_headers
from server_stub.jetstream import JetStream, JetStreamConfig, JsLimits, sealedfile
from server_stub.jetstream.filestore import FileStore


@dataclass
class LocalBus:
    """Delivers synchronously to matching handlers; everything else is recorded in `sent`."""

    subs: dict[int, tuple[str, str, Callable[[BusMessage], None]]] = field(default_factory=dict)
    raw_subs: dict[int, tuple[str, str, RawHandler]] = field(default_factory=dict)
    sent: list[BusMessage] = field(default_factory=list)
    _next: int = 0

    def subscribe(self, account: str, subject: str, handler: Callable[[BusMessage], None]) -> int:
        self._next += 1
        self.subs[self._next] = (account, subject, handler)
        return self._next

    def subscribe_raw(self, account: str, subject: str, handler: RawHandler) -> int:
        self._next += 1
        self.raw_subs[self._next] = (account, subject, handler)
        return self._next

    def unsubscribe(self, sid: int) -> None:
        self.subs.pop(sid, None)
        self.raw_subs.pop(sid, None)

    def publish(self, account, subject, payload, *, reply=None, headers=None) -> None:
        msg = BusMessage(account, subject, reply, headers, payload)
        handlers = [
            h for a, s, h in self.subs.values() if a == account and subject_matches(s, subject)
        ]
        raw = [
            h for a, s, h in self.raw_subs.values() if a == account and subject_matches(s, subject)
        ]
        if not handlers and not raw:
            self.sent.append(msg)
        for handler in handlers:
            handler(msg)
        block = build_headers(headers) if headers is not None else None
        for raw_handler in raw:  # as the server's router hands them: the header block unparsed
            raw_handler(account, subject, reply or None, block, payload)

    def publish_replies(self, account: str, replies) -> None:
        for inbox, payload in replies:
            self.publish(account, inbox, payload)

    def has_responder(self, account: str, subject: str) -> bool:
        subs = [*self.subs.values(), *self.raw_subs.values()]
        return any(a == account and subject_matches(s, subject) for a, s, _ in subs)

    def request(self, account: str, subject: str, body=b"", headers=None) -> dict | None:
        """Publish with a fresh reply subject and return the JSON answer (None: no answer)."""
        reply = f"_INBOX.test.{len(self.sent)}"
        before = len(self.sent)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.publish(account, subject, payload, reply=reply, headers=headers)
        answers = [m for m in self.sent[before:] if m.subject == reply]
        return json.loads(answers[-1].payload) if answers else None

    def take(self, subject: str) -> list[BusMessage]:
        """Remove and return what was sent to `subject`."""
        found = [m for m in self.sent if m.subject == subject]
        self.sent = [m for m in self.sent if m.subject != subject]
        return found


class Clock:
    """A settable clock in nanoseconds."""

    def __init__(self, now: int = 1_800_000_000_000_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> int:
        self.now += int(seconds * 1_000_000_000)
        return self.now


ACCOUNT = "$G"
UNLIMITED = JsLimits()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_js(tmp_path: Path, clock: Clock):
    """Factory: a started JetStream on a LocalBus, with the global account enabled."""
    made: list[JetStream] = []

    def make(
        *,
        cipher: str | None = "chachapoly",
        key: bytes | None = b"s3cret-key",
        store_dir: Path | None = None,
        limits: JsLimits | None = UNLIMITED,
        bus: LocalBus | None = None,
        block_size: int = 4 << 20,
        sync_interval: float | None = None,
        loop: Any = None,
    ) -> tuple[JetStream, LocalBus]:
        bus = bus or LocalBus()
        config = JetStreamConfig(
            store_dir=store_dir or tmp_path / "store",
            cipher=cipher,
            key=key if cipher else None,
            sync_interval=sync_interval,
        )
        js = JetStream(config, bus, lambda account: limits, clock, block_size=block_size, loop=loop)
        js.start()
        if ACCOUNT not in js.accounts:
            js.enable_account(ACCOUNT, limits)
        made.append(js)
        return js, bus

    yield make
    for js in made:
        js.stop()


class Disk:
    """The file store's write seam with a switch: when full, a write lands partly, then fails."""

    def __init__(self, seed: int = 1) -> None:
        self.full = False
        self.writes_left: int | None = None  # the disk fills up after this many more writes
        self.fsync_errors = 0
        self.failed_writes = 0
        self.writes = 0
        self._rng = random.Random(seed)

    def write(self, fd: int, data: bytes) -> int:
        self.writes += 1
        if self.writes_left is not None:
            self.full = self.writes_left <= 0
            self.writes_left -= 1
        if not self.full:
            return os.write(fd, data)
        self.failed_writes += 1
        part = self._rng.randrange(len(data))  # what fit before the disk filled up
        if self._rng.random() < 0.5:
            return os.write(fd, data[:part])  # the kernel's short write
        os.write(fd, data[:part])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fsync(self, fd: int) -> None:
        if self.fsync_errors:
            self.fsync_errors -= 1
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        os.fsync(fd)


@pytest.fixture
def disk(monkeypatch) -> Disk:
    seam = Disk()
    monkeypatch.setattr(FileStore, "write_fd", staticmethod(seam.write))
    monkeypatch.setattr(FileStore, "fsync_fd", staticmethod(seam.fsync))
    monkeypatch.setattr(sealedfile, "write_fd", seam.write)
    return seam
