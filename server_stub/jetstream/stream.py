"""A stream: its configuration, limits retention, de-duplication and the publish checks."""

from __future__ import annotations

import logging
from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace
from typing import Any

from nscpy.jwt.subject import is_valid_subject, subject_matches
from server_stub.jetstream import errors
from server_stub.jetstream.memstore import MemStore, StoredMsg
from server_stub.jetstream.wire import decode_headers, encode_headers, go_time

log = logging.getLogger("server_stub.jetstream")
SERVER_VERSION = "2.15.1"
API_LEVEL = 5
DEFAULT_DUPLICATE_WINDOW = 120_000_000_000
_BAD_NAME_CHARS = set(".*> \t\r\n/\\")
# Features a client may ask for that the stub does not implement: refused, never ignored.
_UNSUPPORTED = ("mirror", "sources", "subject_transform", "republish", "placement")


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """The subset of nats-server's StreamConfig the stub implements, with its defaults."""

    name: str
    subjects: tuple[str, ...]
    max_consumers: int = -1
    max_msgs: int = -1
    max_msgs_per_subject: int = -1
    max_bytes: int = -1
    max_age: int = 0  # nanoseconds
    max_msg_size: int = -1
    discard: str = "old"
    storage: str = "file"
    duplicate_window: int = DEFAULT_DUPLICATE_WINDOW
    description: str = ""
    deny_delete: bool = False
    deny_purge: bool = False
    allow_direct: bool = False
    metadata: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, body: dict[str, Any]) -> StreamConfig:
        """Validate a STREAM.CREATE/UPDATE body; raises ApiError like nats-server would."""
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise errors.ApiError(400, 10073, "stream name is required")
        if _BAD_NAME_CHARS & set(name):
            raise errors.invalid_config("stream name can not contain whitespace, '.', '*', '>'")
        for key in _UNSUPPORTED:
            if body.get(key):
                raise errors.invalid_config(f"server_stub does not support stream {key}")
        retention = body.get("retention", "limits")
        if retention != "limits":
            raise errors.invalid_config(
                f"server_stub supports limits retention only, got {retention}"
            )
        if body.get("num_replicas", 1) not in (0, 1):
            raise errors.invalid_config("replicas > 1 not supported in non-clustered mode")
        subjects = body.get("subjects") or [name]
        if not isinstance(subjects, list) or not all(isinstance(s, str) for s in subjects):
            raise errors.invalid_config("stream subjects must be a list of strings")
        for subject in subjects:
            if not is_valid_subject(subject):
                raise errors.invalid_config("invalid subject")
        discard = body.get("discard", "old") or "old"
        storage = body.get("storage", "file") or "file"
        if discard not in ("old", "new"):
            raise errors.invalid_config(f"discard policy must be old or new, got {discard}")
        if storage not in ("file", "memory"):
            raise errors.invalid_config(f"storage must be file or memory, got {storage}")
        max_age = _int(body, "max_age", 0)
        window = _int(body, "duplicate_window", 0)
        if window <= 0:
            window = DEFAULT_DUPLICATE_WINDOW
            if 0 < max_age < window:
                window = max_age
        elif max_age and window > max_age:
            raise errors.invalid_config("duplicates window can not be larger then max age")
        metadata = body.get("metadata") or {}
        return cls(
            name=name,
            subjects=tuple(subjects),
            max_consumers=_limit(body, "max_consumers"),
            max_msgs=_limit(body, "max_msgs"),
            max_msgs_per_subject=_limit(body, "max_msgs_per_subject"),
            max_bytes=_limit(body, "max_bytes"),
            max_age=max_age,
            max_msg_size=_limit(body, "max_msg_size"),
            discard=discard,
            storage=storage,
            duplicate_window=window,
            description=str(body.get("description") or ""),
            deny_delete=bool(body.get("deny_delete", False)),
            deny_purge=bool(body.get("deny_purge", False)),
            allow_direct=bool(body.get("allow_direct", False)),
            metadata={
                str(k): str(v) for k, v in metadata.items() if not str(k).startswith("_nats")
            },
        )

    def to_json(self, *, full_metadata: bool = True) -> dict[str, Any]:
        """The `config` object, field by field in nats-server's order."""
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out.update(
            subjects=list(self.subjects),
            retention="limits",
            max_consumers=self.max_consumers,
            max_msgs=self.max_msgs,
            max_bytes=self.max_bytes,
            max_age=self.max_age,
            max_msgs_per_subject=self.max_msgs_per_subject,
            max_msg_size=self.max_msg_size,
            discard=self.discard,
            storage=self.storage,
            num_replicas=1,
            duplicate_window=self.duplicate_window,
            compression="none",
            allow_direct=self.allow_direct,
            mirror_direct=False,
            sealed=False,
            deny_delete=self.deny_delete,
            deny_purge=self.deny_purge,
            allow_rollup_hdrs=False,
            consumer_limits={},
            allow_msg_ttl=False,
        )
        meta = dict(self.metadata)
        if full_metadata:
            meta.update({"_nats.level": str(API_LEVEL), "_nats.req.level": "0"})
            meta["_nats.ver"] = SERVER_VERSION
        else:
            meta["_nats.req.level"] = "0"
        out["metadata"] = meta
        return out

    def same_as(self, other: StreamConfig) -> bool:
        """Equal for CREATE's idempotency check (metadata aside)."""
        return replace(self, metadata={}) == replace(other, metadata={})


def _int(body: dict[str, Any], key: str, default: int) -> int:
    value = body.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.invalid_config(f"stream {key} must be an integer, got {value!r}")
    return value


def _limit(body: dict[str, Any], key: str) -> int:
    value = _int(body, key, -1)
    return -1 if value == 0 else value  # nats-server reports an unset limit as -1


@dataclass(slots=True)
class PublishResult:
    """What a publish produced: the ack (or error) body and the stored message, if any."""

    ack: dict[str, Any]
    stored: StoredMsg | None = None


class Stream:
    """One stream over a MemStore or FileStore; the clock is passed in as `now` (ns)."""

    def __init__(self, config: StreamConfig, store: MemStore, created: int) -> None:
        self.config = config
        self.store = store
        self.created = created
        self._dedupe: OrderedDict[str, tuple[int, int]] = OrderedDict()  # id -> (seq, ts)
        self.last_msg_id = ""
        self._rebuild_dedupe()
        # subject -> its sequences, oldest first; kept only while max_msgs_per_subject is set
        self._by_subject: dict[str, deque[int]] | None = None
        self._by_subject_limit = -1

    @property
    def name(self) -> str:
        """The stream's name."""
        return self.config.name

    def covers(self, subject: str) -> bool:
        """True when a publish to `subject` lands in this stream."""
        return any(subject_matches(s, subject) for s in self.config.subjects)

    # -- publish -------------------------------------------------------------------------
    def publish(
        self, subject: str, headers: dict[str, str] | None, data: bytes, now: int
    ) -> PublishResult:
        """Apply nats-server's publish checks, store the message and enforce the limits."""
        hdrs = headers or {}
        msg_id = hdrs.get("Nats-Msg-Id", "")
        try:
            if msg_id:
                self._expire_dedupe(now)
                seen = self._dedupe.get(msg_id)
                if seen is not None:
                    return PublishResult({"stream": self.name, "seq": seen[0], "duplicate": True})
            self._check_expectations(subject, hdrs)
            block = encode_headers(headers)
            if 0 <= self.config.max_msg_size < len(block) + len(data):
                raise errors.message_too_big()
            if self.config.discard == "new":
                self._check_discard_new(self.store.msg_size(subject, block, data))
        except errors.ApiError as exc:
            return PublishResult({"error": exc.to_json(), "stream": self.name, "seq": 0})
        try:
            stored = self.store.append(subject, block, data, now)
        except errors.StoreWriteFailed as exc:  # nothing was stored (see FileStore._append)
            log.error("JetStream failed to store a msg: %s", exc.description)
            return PublishResult({"error": exc.to_json(), "stream": self.name, "seq": 0})
        if msg_id:
            self._dedupe[msg_id] = (stored.seq, now)
        self.last_msg_id = msg_id
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
        return PublishResult({"stream": self.name, "seq": stored.seq}, stored)

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
        if last_seq is not None and _as_int(last_seq) != self.store.last_seq:
            raise errors.wrong_last_sequence(self.store.last_seq)
        subject_seq = hdrs.get("Nats-Expected-Last-Subject-Sequence")
        if subject_seq is not None:
            last = self.store.last_for_subject(subject)
            actual = last.seq if last else 0
            if _as_int(subject_seq) != actual:
                raise errors.wrong_last_sequence(actual)

    def _check_discard_new(self, size: int) -> None:
        cfg = self.config
        if cfg.max_msgs > 0 and self.store.messages >= cfg.max_msgs:
            raise errors.max_messages_exceeded()
        if cfg.max_bytes > 0 and self.store.bytes + size > cfg.max_bytes:
            raise errors.max_bytes_exceeded()

    def enforce_limits(self, now: int) -> int:
        """Drop the oldest messages beyond max_msgs / max_bytes / max_age; returns how many."""
        cfg, store = self.config, self.store
        per_subject = self._enforce_per_subject()
        floor = store.first_seq
        if cfg.max_age > 0:
            cutoff = now - cfg.max_age
            for msg in store.iter_from(floor):
                if msg.ts > cutoff:
                    break
                floor = msg.seq + 1
            else:
                floor = store.last_seq + 1
        gone = store.remove_below(floor) if floor > store.first_seq else 0
        while cfg.max_msgs > 0 and store.messages > cfg.max_msgs:
            gone += store.remove_below(store.first_seq + 1)
        while cfg.max_bytes > 0 and store.bytes > cfg.max_bytes and store.messages:
            gone += store.remove_below(store.first_seq + 1)
        return gone + per_subject

    # -- dedupe --------------------------------------------------------------------------
    def _expire_dedupe(self, now: int) -> None:
        cutoff = now - self.config.duplicate_window
        while self._dedupe:
            key, (_, ts) = next(iter(self._dedupe.items()))
            if ts > cutoff:
                break
            del self._dedupe[key]

    def _rebuild_dedupe(self) -> None:
        # nats-server rebuilds the window from stored headers after a restart; so do we
        for msg in self.store.iter_from(self.store.first_seq):
            if msg.hdrs:
                msg_id = (decode_headers(msg.hdrs) or {}).get("Nats-Msg-Id", "")
                if msg_id:
                    self._dedupe[msg_id] = (msg.seq, msg.ts)
        last = self.store.get(self.store.last_seq)
        if last is not None and last.hdrs:
            self.last_msg_id = (decode_headers(last.hdrs) or {}).get("Nats-Msg-Id", "")

    # -- admin ---------------------------------------------------------------------------
    def purge(self, body: dict[str, Any]) -> int:
        """STREAM.PURGE with optional `filter`, `seq` (exclusive upper bound) and `keep`."""
        if self.config.deny_purge:
            raise errors.ApiError(400, 10023, "stream purge is not permitted")
        store = self.store
        filt = body.get("filter") or ""
        upto = _as_int(body.get("seq", 0) or 0)
        keep = _as_int(body.get("keep", 0) or 0)
        if not filt:
            floor = store.last_seq + 1
            if upto:
                floor = min(floor, upto)
            if keep:
                floor = min(floor, max(store.first_seq, store.last_seq + 1 - keep))
            return store.remove_below(floor)
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
        if self.config.deny_delete:
            raise errors.ApiError(400, 10050, "message delete not permitted")
        if not self.store.remove(seq):
            raise errors.msg_delete_failed("no message found")

    def get_msg(self, body: dict[str, Any]) -> StoredMsg:
        """STREAM.MSG.GET by `seq`, `last_by_subj`, or `seq` + `next_by_subj`."""
        store = self.store
        if body.get("last_by_subj"):
            msg = store.last_for_subject(str(body["last_by_subj"]))
        elif body.get("next_by_subj"):
            msg = store.next_matching(
                _as_int(body.get("seq", 0) or 0), (str(body["next_by_subj"]),)
            )
        elif "seq" in body:
            msg = store.get(_as_int(body["seq"]))
        else:
            raise errors.bad_request("request must set seq, last_by_subj or next_by_subj")
        if msg is None:
            raise errors.no_message_found()
        return msg

    def state_json(self, consumer_count: int) -> dict[str, Any]:
        """The `state` object of stream info."""
        store = self.store
        first = store.first()
        out: dict[str, Any] = {
            "messages": store.messages,
            "bytes": store.bytes,
            "first_seq": store.first_seq,
            "first_ts": go_time(first.ts if first else 0),
            "last_seq": store.last_seq,
            "last_ts": go_time(store.last_ts if store.last_seq else 0),
        }
        if store.messages:
            out["num_subjects"] = store.num_subjects()
            deleted = store.last_seq - store.first_seq + 1 - store.messages
            if deleted > 0:
                out["num_deleted"] = deleted
        out["consumer_count"] = consumer_count
        return out


def _as_int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        raise errors.bad_request(f"expected an integer, got {value!r}") from None
