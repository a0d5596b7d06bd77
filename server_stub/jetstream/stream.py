"""A stream: its configuration, limits retention, de-duplication and the publish checks."""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from nscpy.jwt.subject import subject_matches
from server_stub.jetstream import errors
from server_stub.jetstream.apiwire import request_int
from server_stub.jetstream.memstore import MemStore, StoredMsg
from server_stub.jetstream.streamconfig import (
    API_LEVEL,
    DEFAULT_DUPLICATE_WINDOW,
    SERVER_VERSION,
    StreamConfig,
)
from server_stub.jetstream.wire import (
    decode_headers,
    encode_headers,
    go_duration,
    go_json,
    go_time,
    parse_duration,
)

__all__ = [
    "API_LEVEL",
    "DEFAULT_DUPLICATE_WINDOW",
    "SERVER_VERSION",
    "PublishResult",
    "Republished",
    "Stream",
    "StreamConfig",
    "ack_prefix",
]

log = logging.getLogger("server_stub.jetstream")


@dataclass(frozen=True, slots=True)
class Republished:
    """A message republish sends after a store: to `subject`, with nats-server's headers."""

    subject: str
    headers: dict[str, str]
    data: bytes


@dataclass(slots=True)
class PublishResult:
    """What a publish produced: the ack (or error) body, the stored message, republishes."""

    ack: dict[str, Any]
    stored: StoredMsg | None = None
    republish: tuple[Republished, ...] = ()


def ack_prefix(stream: str, domain: str = "") -> bytes:
    """The bytes of a stored publish's ack up to its seq: `{"stream":…,"seq":` (with the
    domain between them when set, as nats-server writes it). Acks differ only in the seq, so
    the engine appends `<seq>}` instead of encoding each one."""
    ack: dict[str, Any] = {"stream": stream} | ({"domain": domain} if domain else {}) | {"seq": 0}
    text = go_json(ack)
    return text[: -len("0}")].encode()


def parse_ttl(text: str) -> int:
    """A Nats-TTL value in nanoseconds: a Go duration or whole seconds, at least 1 s;
    "never" is -1 (kept past max_age)."""
    text = text.strip()
    if text == "never":
        return -1
    try:
        ns = int(text) * 1_000_000_000 if text.isdigit() else parse_duration(text)
    except ValueError:
        raise errors.ttl_invalid() from None
    if ns < 1_000_000_000:
        raise errors.ttl_invalid()
    return ns


class Stream:
    """One stream over a MemStore or FileStore; the clock is passed in as `now` (ns)."""

    def __init__(self, config: StreamConfig, store: MemStore, created: int) -> None:
        self._config = config
        self._plain = _stores_plainly(config)
        # read several times per publish; an update keeps it (STREAM.UPDATE refuses a rename)
        self.name: str = config.name
        self.store = store
        self.created = created
        self._dedupe: OrderedDict[str, tuple[int, int]] = OrderedDict()  # id -> (seq, ts)
        self.last_msg_id = ""
        self._expires: dict[int, int] = {}  # seq -> expiry (ns) from Nats-TTL; -1: never
        self._rebuild_dedupe()
        # subject -> its sequences, oldest first; kept only while max_msgs_per_subject is set
        self._by_subject: dict[str, deque[int]] | None = None
        self._by_subject_limit = -1

    @property
    def config(self) -> StreamConfig:
        """The stream's configuration (STREAM.UPDATE replaces it)."""
        return self._config

    @config.setter
    def config(self, config: StreamConfig) -> None:
        self._config = config
        self._plain = _stores_plainly(config)

    def covers(self, subject: str) -> bool:
        """True when a publish to `subject` lands in this stream."""
        return any(subject_matches(s, subject) for s in self.config.subjects)

    # -- publish -------------------------------------------------------------------------
    def publish(
        self, subject: str, headers: dict[str, str] | None, data: bytes, now: int
    ) -> PublishResult:
        """Apply nats-server's publish checks, store the message and enforce the limits."""
        if headers is None and self._plain and not self._expires:
            # nothing to check or enforce (see _stores_plainly), no TTL pending: stored as is
            try:
                stored = self.store.append(subject, b"", data, now)
            except errors.StoreWriteFailed as exc:  # nothing was stored
                log.error("JetStream failed to store a msg: %s", exc.description)
                return PublishResult({"error": exc.to_json(), "stream": self.name, "seq": 0})
            self.last_msg_id = ""
            return PublishResult({"stream": self.name, "seq": stored.seq}, stored)
        msg_id = headers.get("Nats-Msg-Id", "") if headers else ""
        config = self.config
        try:
            if config.sealed:
                raise errors.sealed()
            if msg_id:
                self._expire_dedupe(now)
                seen = self._dedupe.get(msg_id)
                if seen is not None:
                    return PublishResult({"stream": self.name, "seq": seen[0], "duplicate": True})
            transform = config.subject_transform
            if transform is not None and transform.matches(subject):
                subject = transform.apply(subject)
            ttl, rollup, block = 0, "", b""
            if headers:  # the checks below only read headers: a plain PUB skips them
                self._check_disabled_features(headers)
                self._check_expectations(subject, headers)
                ttl = self._message_ttl(headers)
                rollup = self._rollup(headers)
                block = encode_headers(headers)
            if 0 <= config.max_msg_size < len(block) + len(data):
                raise errors.message_too_big()
            if config.discard == "new":
                self._check_discard_new(subject, self.store.msg_size(subject, block, data))
        except errors.ApiError as exc:
            return PublishResult({"error": exc.to_json(), "stream": self.name, "seq": 0})
        previous = self._last_seq_on(subject) if config.republish else 0
        try:
            stored = self.store.append(subject, block, data, now)
        except errors.StoreWriteFailed as exc:  # nothing was stored (see FileStore._append)
            log.error("JetStream failed to store a msg: %s", exc.description)
            return PublishResult({"error": exc.to_json(), "stream": self.name, "seq": 0})
        if msg_id:
            self._dedupe[msg_id] = (stored.seq, now)
        if ttl:
            self._expires[stored.seq] = now + ttl if ttl > 0 else -1
        self.last_msg_id = msg_id
        if rollup:
            try:
                self._roll_up(rollup, stored)
            except errors.StoreWriteFailed as exc:  # the message is stored; older ones stay
                log.error("JetStream cannot apply a rollup: %s", exc.description)
        if (
            self._by_subject is not None
            and self._by_subject_limit == self.config.max_msgs_per_subject
        ):
            seqs = self._by_subject.setdefault(subject, deque())
            seqs.append(stored.seq)
            self._trim_subject(seqs)
        try:
            self.enforce_limits(now)
        except errors.StoreWriteFailed as exc:  # the message is stored; the tick retries
            log.error("JetStream cannot apply the limits: %s", exc.description)
        result = PublishResult({"stream": self.name, "seq": stored.seq}, stored)
        if config.republish is not None:
            result.republish = self._republished(stored, previous)
        return result

    def forget(self, seqs: tuple[int, ...]) -> None:
        """The store took these just-appended messages back (a failed write-out): drop what
        publish recorded of them, so a retried Nats-Msg-Id is stored again."""
        gone = set(seqs)
        for msg_id, (seq, _) in list(self._dedupe.items()):
            if seq in gone:
                del self._dedupe[msg_id]
        for seq in gone:
            self._expires.pop(seq, None)
        if self._by_subject is not None:  # the seqs are handed out again: not theirs then
            for subject_seqs in self._by_subject.values():
                while subject_seqs and subject_seqs[-1] in gone:
                    subject_seqs.pop()
        self._last_msg_id_from_store()

    def _last_msg_id_from_store(self) -> None:
        last = self.store.get(self.store.last_seq)
        self.last_msg_id = ""
        if last is not None and last.hdrs:
            self.last_msg_id = (decode_headers(last.hdrs) or {}).get("Nats-Msg-Id", "")

    def _roll_up(self, rollup: str, stored: StoredMsg) -> None:
        if rollup == "all":
            self.store.remove_below(stored.seq)
        elif rollup == "sub":
            older = [m.seq for m in self.store.iter_from(0) if m.subject == stored.subject]
            for seq in older:
                if seq != stored.seq:
                    self.store.remove(seq)

    def _message_ttl(self, hdrs: dict[str, str]) -> int:
        """The Nats-TTL header in nanoseconds (-1: never expires, 0: none given)."""
        text = hdrs.get("Nats-TTL")
        if text is None:
            return 0
        if not self.config.allow_msg_ttl:
            raise errors.ttl_disabled()
        return parse_ttl(text)

    def _rollup(self, hdrs: dict[str, str]) -> str:
        value = hdrs.get("Nats-Rollup")
        if value is None:
            return ""
        if not self.config.allow_rollup_hdrs or self.config.deny_purge:
            raise errors.rollup_failed("rollup not permitted")
        if value not in ("sub", "all"):
            raise errors.rollup_failed(f'rollup value invalid: "{value}"')
        return value

    def _last_seq_on(self, subject: str) -> int:
        last = self.store.last_for_subject(subject)
        return last.seq if last is not None else 0

    def _republished(self, stored: StoredMsg, previous: int) -> tuple[Republished, ...]:
        """What republish sends for a stored message (nats-server's headers, in its order)."""
        republish = self.config.republish
        if republish is None or not republish.transform.matches(stored.subject):
            return ()
        headers = dict(decode_headers(stored.hdrs) or {})
        headers.update(
            {
                "Nats-Stream": self.name,
                "Nats-Subject": stored.subject,
                "Nats-Sequence": str(stored.seq),
                "Nats-Time-Stamp": go_time(stored.ts),
                "Nats-Last-Sequence": str(previous),
            }
        )
        data = stored.data
        if republish.headers_only:
            headers["Nats-Msg-Size"] = str(len(data))
            data = b""
        return (Republished(republish.transform.apply(stored.subject), headers, data),)

    def _trim_subject(self, seqs: deque[int]) -> int:
        """Drop a subject's oldest messages beyond max_msgs_per_subject; returns how many."""
        store, limit, gone = self.store, self.config.max_msgs_per_subject, 0
        if len(seqs) > limit:  # sequences removed by other limits or deletes no longer count
            live = [seq for seq in seqs if store.get(seq) is not None]
            seqs.clear()
            seqs.extend(live)
        while len(seqs) > limit:
            gone += store.remove(seqs.popleft())
        return gone

    def _enforce_per_subject(self) -> int:
        limit = self.config.max_msgs_per_subject
        if limit <= 0:
            self._by_subject, self._by_subject_limit = None, -1
            return 0
        if self._by_subject is not None and self._by_subject_limit == limit:
            return 0  # publish keeps the index trimmed
        index: dict[str, deque[int]] = {}
        for msg in self.store.iter_from(self.store.first_seq):
            index.setdefault(msg.subject, deque()).append(msg.seq)
        self._by_subject, self._by_subject_limit = index, limit
        return sum(self._trim_subject(seqs) for seqs in index.values())

    def _check_expectations(self, subject: str, hdrs: dict[str, str]) -> None:
        expected = hdrs.get("Nats-Expected-Stream")
        if expected is not None and expected != self.name:
            raise errors.expected_stream_mismatch()
        last_id = hdrs.get("Nats-Expected-Last-Msg-Id")
        if last_id is not None and last_id != self.last_msg_id:
            raise errors.wrong_last_msg_id(self.last_msg_id)
        last_seq = hdrs.get("Nats-Expected-Last-Sequence")
        if last_seq is not None and _header_int(last_seq) != self.store.last_seq:
            raise errors.wrong_last_sequence(self.store.last_seq)
        subject_seq = hdrs.get("Nats-Expected-Last-Subject-Sequence")
        if subject_seq is not None:
            # the subject (or pattern) to check may be named apart from the publish subject
            on = hdrs.get("Nats-Expected-Last-Subject-Sequence-Subject") or subject
            last = self.store.last_for_subject(on)
            actual = last.seq if last else 0
            if _header_int(subject_seq) != actual:
                raise errors.wrong_last_sequence(actual)

    @staticmethod
    def _check_disabled_features(hdrs: dict[str, str]) -> None:
        """Headers of features whose stream settings the stub refuses: refused as nats-server
        refuses them on a stream without the setting."""
        if "Nats-Incr" in hdrs:
            raise errors.ApiError(400, 10168, "message counters is disabled")
        if "Nats-Batch-Id" in hdrs:
            raise errors.ApiError(400, 10174, "atomic publish is disabled")
        if "Nats-Schedule" in hdrs:
            raise errors.ApiError(400, 10188, "message schedules is disabled")

    def _check_discard_new(self, subject: str, size: int) -> None:
        cfg = self.config
        if cfg.discard_new_per_subject and self._count_on(subject) >= cfg.max_msgs_per_subject:
            raise errors.max_per_subject_exceeded()
        if cfg.max_msgs > 0 and self.store.messages >= cfg.max_msgs:
            raise errors.max_messages_exceeded()
        if cfg.max_bytes > 0 and self.store.bytes + size > cfg.max_bytes:
            raise errors.max_bytes_exceeded()

    def _count_on(self, subject: str) -> int:
        store = self.store
        if self._by_subject is not None:
            return sum(1 for seq in self._by_subject.get(subject, ()) if store.get(seq))
        return sum(1 for m in store.iter_from(store.first_seq) if m.subject == subject)

    def _expire_ttls(self, now: int) -> list[StoredMsg]:
        """Remove messages whose Nats-TTL ran out; returns them."""
        gone: list[StoredMsg] = []
        for seq, expiry in list(self._expires.items()):
            msg = self.store.get(seq)
            if msg is None:
                del self._expires[seq]
            elif 0 < expiry <= now:
                del self._expires[seq]
                if self.store.remove(seq):
                    gone.append(msg)
        return gone

    def enforce_limits(self, now: int) -> int:
        """Drop the oldest messages beyond max_msgs / max_bytes / max_age, and those whose
        Nats-TTL ran out (leaving subject delete markers if configured); returns how many."""
        cfg, store = self.config, self.store
        if (
            cfg.max_msgs <= 0
            and cfg.max_bytes <= 0
            and cfg.max_age <= 0
            and cfg.max_msgs_per_subject <= 0
            and self._by_subject is None
            and not self._expires
        ):
            return 0  # no limit set and no TTL pending: nothing to drop (every publish asks)
        per_subject = self._enforce_per_subject()
        aged = self._expire_ttls(now)
        floor = store.first_seq
        if cfg.max_age > 0 and (self._expires or cfg.subject_delete_marker_ttl):
            # one by one: a message with its own TTL is not subject to max_age, and a marker
            # needs to know which subjects went
            cutoff = now - cfg.max_age
            for msg in list(store.iter_from(floor)):
                if msg.ts > cutoff:
                    break
                if msg.seq not in self._expires and store.remove(msg.seq):
                    aged.append(msg)
        elif cfg.max_age > 0:
            cutoff = now - cfg.max_age
            for msg in store.iter_from(floor):
                if msg.ts > cutoff:
                    break
                floor = msg.seq + 1
            else:
                floor = store.last_seq + 1
        per_subject += len(aged)
        if cfg.subject_delete_marker_ttl and aged:
            self._place_markers(aged, now)
        gone = store.remove_below(floor) if floor > store.first_seq else 0
        while cfg.max_msgs > 0 and store.messages > cfg.max_msgs:
            gone += store.remove_below(store.first_seq + 1)
        while cfg.max_bytes > 0 and store.bytes > cfg.max_bytes and store.messages:
            gone += store.remove_below(store.first_seq + 1)
        return gone + per_subject

    def _place_markers(self, aged: list[StoredMsg], now: int) -> None:
        """A subject whose last message aged out gets a delete marker (nats-server's headers),
        itself kept for subject_delete_marker_ttl; markers that expire leave none."""
        ttl = self.config.subject_delete_marker_ttl
        done: set[str] = set()
        for msg in sorted(aged, key=lambda m: m.seq):
            if msg.subject in done or b"Nats-Marker-Reason" in msg.hdrs:
                continue
            done.add(msg.subject)
            if self.store.last_for_subject(msg.subject) is not None:
                continue
            headers = {"Nats-Marker-Reason": "MaxAge", "Nats-TTL": go_duration(ttl)}
            headers["Nats-Rollup"] = "sub"
            marker = self.store.append(msg.subject, encode_headers(headers), b"", now)
            self._expires[marker.seq] = now + ttl

    # -- dedupe --------------------------------------------------------------------------
    def _expire_dedupe(self, now: int) -> None:
        cutoff = now - self.config.duplicate_window
        while self._dedupe:
            key, (_, ts) = next(iter(self._dedupe.items()))
            if ts > cutoff:
                break
            del self._dedupe[key]

    def _rebuild_dedupe(self) -> None:
        # nats-server rebuilds the window (and TTLs) from stored headers after a restart
        for msg in self.store.iter_from(self.store.first_seq):
            if msg.hdrs:
                hdrs = decode_headers(msg.hdrs) or {}
                msg_id = hdrs.get("Nats-Msg-Id", "")
                if msg_id:
                    self._dedupe[msg_id] = (msg.seq, msg.ts)
                if "Nats-TTL" in hdrs:
                    try:
                        ttl = parse_ttl(hdrs["Nats-TTL"])
                    except errors.ApiError:
                        continue
                    self._expires[msg.seq] = msg.ts + ttl if ttl > 0 else -1
        self._last_msg_id_from_store()

    # -- admin ---------------------------------------------------------------------------
    def purge(self, body: dict[str, Any]) -> int:
        """STREAM.PURGE with optional `filter`, `seq` (exclusive upper bound) and `keep`."""
        if self.config.sealed:
            raise errors.sealed()
        if self.config.deny_purge:
            raise errors.ApiError(400, 10023, "stream purge is not permitted")
        store = self.store
        filt = body.get("filter") or ""
        upto = request_int(body.get("seq", 0) or 0)
        keep = request_int(body.get("keep", 0) or 0)
        if upto and keep:
            raise errors.bad_request()  # nats-server takes one or the other
        if not filt:
            floor = upto or store.last_seq + 1
            if keep:
                floor = min(floor, max(store.first_seq, store.last_seq + 1 - keep))
            gone = store.remove_below(floor)
            store.start_at(floor)  # a seq past the end moves the stream's sequence on
            return gone
        doomed = [
            m.seq for m in store.iter_from(store.first_seq) if subject_matches(filt, m.subject)
        ]
        if upto:
            doomed = [s for s in doomed if s < upto]
        if keep:
            doomed = doomed[: max(0, len(doomed) - keep)]
        return sum(1 for seq in doomed if store.remove(seq))

    def delete_msg(self, seq: int) -> None:
        """STREAM.MSG.DELETE."""
        if self.config.sealed:
            raise errors.sealed()
        if self.config.deny_delete:
            raise errors.ApiError(400, 10050, "message delete not permitted")
        store = self.store
        if store.remove(seq):
            return
        if self.config.storage == "file":  # nats-server's filestore words the edges its way
            if seq > store.last_seq:
                raise errors.ApiError(500, 10057, "stream store EOF")
            if seq < store.first_seq:
                raise errors.ApiError(500, 10057, "no message found")
        raise errors.sequence_not_found(seq)


def _stores_plainly(config: StreamConfig) -> bool:
    """True when none of the config's checks and limits applies to a publish without
    headers (what Stream.publish and enforce_limits would look at): then it is stored as is.
    (discard new acts only with a limit below, and a per-subject index only with its limit:
    STREAM.UPDATE enforces the limits at once, which drops the index.) Headers (a Msg-Id,
    expectations, a TTL, a rollup) always take the full path."""
    return (
        not config.sealed
        and config.subject_transform is None
        and config.max_msg_size < 0
        and config.republish is None
        and config.max_msgs <= 0
        and config.max_bytes <= 0
        and config.max_age <= 0
        and config.max_msgs_per_subject <= 0
    )


def _header_int(value: str) -> int:
    """A sequence header as nats-server reads it: not a number counts as 0."""
    try:
        return int(value.strip())
    except ValueError:
        return 0
