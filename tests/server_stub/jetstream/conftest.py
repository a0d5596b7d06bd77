"""A small in-process MessageBus for driving the engine without the server core."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nscpy.jwt.subject import subject_matches
from server_stub.bus import BusMessage
from server_stub.jetstream import JetStream, JetStreamConfig, JsLimits


@dataclass
class LocalBus:
    """Delivers synchronously to matching handlers; everything else is recorded in `sent`."""

    subs: dict[int, tuple[str, str, Callable[[BusMessage], None]]] = field(default_factory=dict)
    sent: list[BusMessage] = field(default_factory=list)
    _next: int = 0

    def subscribe(self, account: str, subject: str, handler: Callable[[BusMessage], None]) -> int:
        self._next += 1
        self.subs[self._next] = (account, subject, handler)
        return self._next

    def unsubscribe(self, sid: int) -> None:
        self.subs.pop(sid, None)

    def publish(self, account, subject, payload, *, reply=None, headers=None) -> None:
        msg = BusMessage(account, subject, reply, headers, payload)
        handlers = [
            h for a, s, h in self.subs.values() if a == account and subject_matches(s, subject)
        ]
        if not handlers:
            self.sent.append(msg)
        for handler in handlers:
            handler(msg)

    def has_responder(self, account: str, subject: str) -> bool:
        return any(a == account and subject_matches(s, subject) for a, s, _ in self.subs.values())

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
    ) -> tuple[JetStream, LocalBus]:
        bus = bus or LocalBus()
        config = JetStreamConfig(
            store_dir=store_dir or tmp_path / "store",
            cipher=cipher,
            key=key if cipher else None,
            sync_interval=sync_interval,
        )
        js = JetStream(config, bus, lambda account: limits, clock, block_size=block_size)
        js.start()
        if ACCOUNT not in js.accounts:
            js.enable_account(ACCOUNT, limits)
        made.append(js)
        return js, bus

    yield make
    for js in made:
        js.stop()
