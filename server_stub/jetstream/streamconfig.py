"""A stream's configuration: STREAM.CREATE/UPDATE validation and nats-server's JSON field order.

Every field nats-server 2.15 knows is either honoured or refused with an API error; a field it
does not know is refused as nats-server's strict decoder does (10025 "unknown field").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from nscpy.jwt.subject import is_valid_subject, subject_matches, subjects_collide
from server_stub.jetstream import errors
from server_stub.jetstream.transform import SubjectTransform, TransformError
from server_stub.jetstream.wire import go_enum

SERVER_VERSION = "2.15.1"
API_LEVEL = 5
DEFAULT_DUPLICATE_WINDOW = 120_000_000_000
_BAD_NAME_CHARS = set(".*> \t\r\n/\\")
# Fields nats-server knows that the stub does not implement: refused when set.
_REFUSED = {
    "mirror": "mirror (one server, no mirroring)",
    "sources": "sources (one server, no sourcing)",
    "placement": "placement (one server, no cluster)",
    "allow_msg_schedules": "allow_msg_schedules (message schedules)",
    "allow_atomic": "allow_atomic (atomic batch publish)",
    "allow_batched": "allow_batched (batched publish)",
    "allow_msg_counter": "allow_msg_counter (counters)",
}
_KNOWN = {
    "name", "description", "subjects", "retention", "max_consumers", "max_msgs", "max_bytes",
    "max_age", "max_msgs_per_subject", "max_msg_size", "discard", "storage", "num_replicas",
    "no_ack", "duplicate_window", "compression", "first_seq", "subject_transform", "republish",
    "allow_direct", "mirror_direct", "discard_new_per_subject", "sealed", "deny_delete",
    "deny_purge", "allow_rollup_hdrs", "consumer_limits", "allow_msg_ttl", "persist_mode",
    "subject_delete_marker_ttl",
    "metadata", *_REFUSED,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Republish:
    """Republish stored messages matching `transform.source` to its destination."""

    transform: SubjectTransform
    headers_only: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"src": self.transform.source, "dest": self.transform.destination}
        if self.headers_only:
            out["headers_only"] = True
        return out


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """nats-server's StreamConfig as the stub serves it, with its defaults."""

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
    retention: str = "limits"  # or "interest", "workqueue"
    no_ack: bool = False
    duplicate_window: int = DEFAULT_DUPLICATE_WINDOW
    first_seq: int = 0
    subject_transform: SubjectTransform | None = None
    republish: Republish | None = None
    description: str = ""
    discard_new_per_subject: bool = False
    sealed: bool = False
    deny_delete: bool = False
    deny_purge: bool = False
    allow_rollup_hdrs: bool = False
    allow_direct: bool = False
    consumer_limits: dict[str, int] = field(default_factory=dict)
    allow_msg_ttl: bool = False
    subject_delete_marker_ttl: int = 0  # nanoseconds; 0: no markers
    metadata: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, body: dict[str, Any]) -> StreamConfig:
        """Validate a STREAM.CREATE/UPDATE body; raises ApiError like nats-server would."""
        unknown = sorted(set(body) - _KNOWN)
        if unknown:
            raise errors.unknown_field(unknown[0])
        name = _name(body)
        storage = go_enum(body, "storage", ("file", "memory"))
        retention = go_enum(body, "retention", ("limits", "interest", "workqueue"))
        discard = go_enum(body, "discard", ("old", "new"))
        for key, what in _REFUSED.items():
            if body.get(key):
                raise errors.stream_unsupported(what)
        if (body.get("compression") or "none") != "none":
            raise errors.stream_unsupported("compression (messages are stored uncompressed)")
        if (body.get("persist_mode") or "default") != "default":
            raise errors.stream_unsupported("persist_mode (every ack follows an fsync)")
        if _int(body, "num_replicas", 1) > 1:
            raise errors.ApiError(500, 10074, "replicas > 1 not supported in non-clustered mode")
        if body.get("mirror_direct"):
            raise errors.invalid_config("stream has no mirror but does have mirror direct")
        max_age, window = _ages(body)
        subjects = _subjects(body, name)
        per_subject = _limit(body, "max_msgs_per_subject")
        if body.get("discard_new_per_subject"):
            if discard != "new":
                raise errors.invalid_config(
                    "discard new per subject requires discard new policy to be set"
                )
            if per_subject <= 0:
                raise errors.invalid_config(
                    "discard new per subject requires max msgs per subject > 0"
                )
        first_seq = _int(body, "first_seq", 0)
        if first_seq < 0:
            raise errors.invalid_json(
                f"json: cannot unmarshal number {first_seq} into Go struct field"
                " StreamConfigRequest.first_seq of type uint64"
            )
        metadata = body.get("metadata") or {}
        markers = _marker_ttl(body)  # markers are TTL'd rollups: nats-server turns both on
        return cls(
            name=name,
            subjects=subjects,
            max_consumers=_limit(body, "max_consumers"),
            max_msgs=_limit(body, "max_msgs"),
            max_msgs_per_subject=per_subject,
            max_bytes=_limit(body, "max_bytes"),
            max_age=max_age,
            max_msg_size=_limit(body, "max_msg_size"),
            discard=discard,
            storage=storage,
            retention=retention,
            no_ack=bool(body.get("no_ack")),
            duplicate_window=window,
            first_seq=first_seq,
            subject_transform=_transform(body.get("subject_transform")),
            republish=_republish(body.get("republish"), subjects),
            description=str(body.get("description") or ""),
            discard_new_per_subject=bool(body.get("discard_new_per_subject")),
            sealed=bool(body.get("sealed")),
            deny_delete=bool(body.get("deny_delete", False)),
            deny_purge=bool(body.get("deny_purge", False)),
            allow_rollup_hdrs=bool(body.get("allow_rollup_hdrs")) or bool(markers),
            allow_direct=bool(body.get("allow_direct", False)),
            consumer_limits=_consumer_limits(body.get("consumer_limits")),
            allow_msg_ttl=bool(body.get("allow_msg_ttl")) or bool(markers),
            subject_delete_marker_ttl=markers,
            metadata={
                str(k): str(v) for k, v in metadata.items() if not str(k).startswith("_nats")
            },
        )

    def sealing(self) -> StreamConfig:
        """The config as nats-server rewrites it when `sealed` is set."""
        return replace(
            self,
            sealed=True,
            max_age=0,
            discard="new",
            deny_delete=True,
            deny_purge=True,
            allow_rollup_hdrs=False,
        )

    def check_update(self, new: StreamConfig) -> None:
        """STREAM.UPDATE's rules for going from this config to `new`; raises ApiError."""
        if new.storage != self.storage:
            raise errors.invalid_config("stream configuration update can not change storage type")
        if "workqueue" in (self.retention, new.retention) and self.retention != new.retention:
            raise errors.invalid_config(
                "stream configuration update can not change retention policy to/from workqueue"
            )
        if self.sealed and not new.sealed:
            raise errors.invalid_config(
                "stream configuration update can not unseal a sealed stream"
            )
        if self.deny_delete and not new.deny_delete:
            raise errors.invalid_config(
                "stream configuration update can not cancel deny message deletes"
            )
        if self.deny_purge and not new.deny_purge:
            raise errors.invalid_config("stream configuration update can not cancel deny purge")
        if self.allow_msg_ttl and not new.allow_msg_ttl:
            raise errors.invalid_config("message TTL status can not be disabled")
        # first_seq may change: like nats-server, it only ever applies to a new stream

    def to_json(self, *, full_metadata: bool = True) -> dict[str, Any]:
        """The `config` object, field by field in nats-server's order."""
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out.update(
            subjects=list(self.subjects),
            retention=self.retention,
            max_consumers=self.max_consumers,
            max_msgs=self.max_msgs,
            max_bytes=self.max_bytes,
            max_age=self.max_age,
            max_msgs_per_subject=self.max_msgs_per_subject,
            max_msg_size=self.max_msg_size,
            discard=self.discard,
            storage=self.storage,
            num_replicas=1,
        )
        if self.no_ack:
            out["no_ack"] = True
        out["duplicate_window"] = self.duplicate_window
        out["compression"] = "none"
        if self.first_seq:
            out["first_seq"] = self.first_seq
        if self.subject_transform:
            transform = self.subject_transform
            out["subject_transform"] = {"src": transform.source, "dest": transform.destination}
        if self.republish:
            out["republish"] = self.republish.to_json()
        out.update(allow_direct=self.allow_direct, mirror_direct=False)
        if self.discard_new_per_subject:
            out["discard_new_per_subject"] = True
        out.update(
            sealed=self.sealed,
            deny_delete=self.deny_delete,
            deny_purge=self.deny_purge,
            allow_rollup_hdrs=self.allow_rollup_hdrs,
            consumer_limits=dict(self.consumer_limits),
            allow_msg_ttl=self.allow_msg_ttl,
        )
        if self.subject_delete_marker_ttl:
            out["subject_delete_marker_ttl"] = self.subject_delete_marker_ttl
        meta = dict(self.metadata)
        level = "1" if self.allow_msg_ttl or self.subject_delete_marker_ttl else "0"
        if full_metadata:
            meta.update({"_nats.level": str(API_LEVEL), "_nats.req.level": level})
            meta["_nats.ver"] = SERVER_VERSION
        else:
            meta["_nats.req.level"] = level
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
    return -1 if value <= 0 else value  # nats-server reports unset (or negative) as -1


def _name(body: dict[str, Any]) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise errors.ApiError(400, 10073, "stream name is required")
    if _BAD_NAME_CHARS & set(name):
        raise errors.invalid_config("stream name can not contain whitespace, '.', '*', '>'")
    if len(name) > 255:
        raise errors.invalid_config("stream name is too long, maximum allowed is 255")
    if len(str(body.get("description") or "")) > 4096:
        raise errors.invalid_config("stream description is too long, maximum allowed is 4096")
    return name


def _ages(body: dict[str, Any]) -> tuple[int, int]:
    """max_age and duplicate_window with nats-server's defaults and bounds."""
    max_age = _int(body, "max_age", 0)
    window = _int(body, "duplicate_window", 0)
    if max_age < 0:
        raise errors.invalid_config("max age can not be negative")
    if 0 < max_age < 100_000_000:
        raise errors.invalid_config("max age needs to be >= 100ms")
    if window < 0:
        raise errors.invalid_config("duplicates window can not be negative")
    if window == 0:
        window = DEFAULT_DUPLICATE_WINDOW
        if 0 < max_age < window:
            window = max_age
    elif max_age and window > max_age:
        raise errors.invalid_config("duplicates window can not be larger then max age")
    return max_age, window


def _subjects(body: dict[str, Any], name: str) -> tuple[str, ...]:
    """The stream's subjects (its name when none), checked as nats-server checks them."""
    subjects = body.get("subjects") or [name]
    if not isinstance(subjects, list) or not all(isinstance(s, str) for s in subjects):
        raise errors.invalid_json("stream subjects must be a list of strings")
    no_ack = bool(body.get("no_ack"))
    for subject in subjects:
        if not is_valid_subject(subject):
            raise errors.invalid_config("invalid subject")
        if not no_ack and subject == ">":
            raise errors.invalid_config("capturing all subjects requires no-ack to be true")
        if not no_ack and subjects_collide(subject, "$JS.>"):
            raise errors.invalid_config(
                "subjects that overlap with jetstream api require no-ack to be true"
            )
    for index, subject in enumerate(subjects):
        for other in subjects[index + 1 :]:
            if subjects_collide(subject, other):
                raise errors.invalid_config(f'subject "{subject}" overlaps with "{other}"')
    return tuple(subjects)


def _marker_ttl(body: dict[str, Any]) -> int:
    ttl = _int(body, "subject_delete_marker_ttl", 0)
    if ttl < 0:
        raise errors.invalid_config("subject delete marker TTL must not be negative")
    if ttl and ttl < 1_000_000_000:
        raise errors.invalid_config("subject delete marker TTL must be at least 1 second")
    return ttl


def _transform(raw: object) -> SubjectTransform | None:
    if not raw:
        return None
    if not isinstance(raw, dict) or set(raw) - {"src", "dest"}:
        raise errors.invalid_config("subject_transform takes src and dest")
    try:
        return SubjectTransform.parse(str(raw.get("src") or ""), str(raw.get("dest") or ""))
    except TransformError as exc:
        raise errors.invalid_config(f"stream subject transform: {exc}") from None


def _republish(raw: object, subjects: tuple[str, ...]) -> Republish | None:
    if not raw:
        return None
    if not isinstance(raw, dict) or set(raw) - {"src", "dest", "headers_only"}:
        raise errors.invalid_config("republish takes src, dest and headers_only")
    try:
        transform = SubjectTransform.parse(str(raw.get("src") or ""), str(raw.get("dest") or ""))
    except TransformError as exc:
        raise errors.invalid_config(f"stream republish: {exc}") from None
    if not any(subject_matches(s, transform.source) for s in subjects) and not any(
        subject_matches(transform.source, s) for s in subjects
    ):
        raise errors.invalid_config(
            "stream configuration for republish source is not a valid subset of stream subjects"
        )
    if any(
        subject_matches(s, transform.destination) or subject_matches(transform.destination, s)
        for s in subjects
    ):
        raise errors.invalid_config("stream configuration for republish destination forms a cycle")
    return Republish(transform, bool(raw.get("headers_only")))


def _consumer_limits(raw: object) -> dict[str, int]:
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise errors.invalid_json("consumer_limits must be an object")
    unknown = sorted(set(raw) - {"inactive_threshold", "max_ack_pending"})
    if unknown:
        raise errors.unknown_field(unknown[0])
    out: dict[str, int] = {}
    for key in ("inactive_threshold", "max_ack_pending"):
        value = raw.get(key) or 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise errors.invalid_config(f"consumer_limits {key} must be a positive integer")
        if value:
            out[key] = value
    return out
