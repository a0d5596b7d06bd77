"""A consumer's configuration: CONSUMER.CREATE validation and nats-server's JSON field order.

Every field nats-server 2.15 knows is either honoured or refused with an API error; a field it
does not know is refused as nats-server's strict decoder does (10025 "unknown field").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from nscpy.jwt.subject import is_literal, is_valid_subject, subjects_collide
from server_stub.jetstream import errors
from server_stub.jetstream.stream import API_LEVEL, SERVER_VERSION
from server_stub.jetstream.wire import go_enum, go_time, parse_go_time

DEFAULT_ACK_WAIT = 30_000_000_000
DEFAULT_INACTIVE = 5_000_000_000
DEFAULT_MAX_ACK_PENDING = 1000
DEFAULT_MAX_WAITING = 512
_POLICIES = ("all", "last", "new", "by_start_sequence", "by_start_time", "last_per_subject")
_BAD_NAME_CHARS = set(".*> \t\r\n/\\")
# Fields nats-server knows that the stub does not implement: refused when set (not default).
_REFUSED = {
    "rate_limit_bps": "rate_limit_bps (delivery rate limits)",
    "priority_groups": "priority_groups (pinned/overflow pull consumers)",
    "priority_policy": "priority_policy",
    "priority_timeout": "priority_timeout",
    "direct": "direct consumers",
}
_KNOWN = {
    "durable_name", "name", "description", "deliver_policy", "opt_start_seq", "opt_start_time",
    "ack_policy", "ack_wait", "max_deliver", "backoff", "filter_subject", "filter_subjects",
    "replay_policy", "max_waiting", "max_ack_pending", "flow_control", "idle_heartbeat",
    "headers_only", "max_batch", "max_expires", "max_bytes", "deliver_subject", "deliver_group",
    "inactive_threshold", "num_replicas", "mem_storage", "metadata", "pause_until", "sample_freq",
    *_REFUSED,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    """nats-server's ConsumerConfig as the stub serves it (pull and push consumers)."""

    name: str
    durable: bool
    deliver_policy: str = "all"
    opt_start_seq: int = 0
    opt_start_time: int = 0  # nanoseconds since the epoch
    ack_policy: str = "explicit"
    ack_wait: int = DEFAULT_ACK_WAIT
    max_deliver: int = -1
    backoff: tuple[int, ...] = ()
    filter_subjects: tuple[str, ...] = ()
    max_waiting: int = DEFAULT_MAX_WAITING
    max_ack_pending: int = DEFAULT_MAX_ACK_PENDING
    flow_control: bool = False
    idle_heartbeat: int = 0  # nanoseconds
    headers_only: bool = False
    max_batch: int = 0
    max_expires: int = 0
    max_bytes: int = 0
    deliver_subject: str = ""  # set: a push consumer delivering there
    deliver_group: str = ""
    inactive_threshold: int = 0
    num_replicas: int = 0
    mem_storage: bool = False
    description: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    pause_until: int = 0  # nanoseconds since the epoch; 0: not paused
    sample_freq: str = ""  # "<n>%" or "<n>": ack metrics for about n% of acks (as given)

    @classmethod
    def from_request(
        cls, body: dict[str, Any], name: str, limits: dict[str, int] | None = None
    ) -> ConsumerConfig:
        """Validate a CONSUMER.CREATE config (already named); raises ApiError.

        `limits` is the stream's consumer_limits (inactive_threshold, max_ack_pending).
        """
        unknown = sorted(set(body) - _KNOWN)
        if unknown:
            raise errors.unknown_field(unknown[0])
        for key, what in _REFUSED.items():
            if body.get(key):
                if key == "rate_limit_bps" and not body.get("deliver_subject"):
                    raise errors.ApiError(
                        400, 10086, "consumer in pull mode can not have rate limit set"
                    )
                raise errors.consumer_unsupported(what)
        if len(str(body.get("description") or "")) > 4096:
            raise errors.ApiError(
                400, 10107, "consumer description is too long, maximum allowed is 4096"
            )
        replay = go_enum(body, "replay_policy", ("instant", "original"))
        if replay != "instant":
            raise errors.consumer_unsupported(f"replay_policy {replay}")
        if _BAD_NAME_CHARS & set(name):
            raise errors.ApiError(400, 10103, "consumer name can not contain path separators")
        deliver = body.get("deliver_subject") or ""
        if not isinstance(deliver, str) or (deliver and not is_valid_subject(deliver)):
            raise errors.ApiError(400, 10112, "invalid push consumer deliver subject")
        if deliver and not is_literal(deliver):
            raise errors.ApiError(400, 10079, "consumer deliver subject has wildcards")
        heartbeat = _nanos(body, "idle_heartbeat")
        flow_control = bool(body.get("flow_control"))
        if not deliver:
            if flow_control:
                raise errors.ApiError(
                    400, 10089, "consumer flow control requires a push based consumer"
                )
            if heartbeat:
                raise errors.ApiError(
                    400, 10088, "consumer idle heartbeat requires a push based consumer"
                )
        elif body.get("max_waiting"):
            raise errors.ApiError(400, 10080, "consumer in push mode can not set max waiting")
        if flow_control and not heartbeat:
            raise errors.ApiError(400, 10108, "consumer with flow control also needs heartbeats")
        if 0 < heartbeat < 100_000_000:
            raise errors.ApiError(400, 10083, "consumer idle heartbeat needs to be >= 100ms")
        sample_freq = body.get("sample_freq")
        sample_freq = "" if sample_freq is None else sample_freq
        sampling_percent(sample_freq)  # checked as nats-server does: refused if not a number
        policy = go_enum(body, "deliver_policy", _POLICIES)
        ack = go_enum(body, "ack_policy", ("none", "all", "explicit"))
        filters = list(body.get("filter_subjects") or [])
        if body.get("filter_subject"):
            if filters:
                raise errors.ApiError(
                    400,
                    10136,
                    "consumer cannot have both FilterSubject and FilterSubjects specified",
                )
            filters = [body["filter_subject"]]
        for subject in filters:
            if not isinstance(subject, str) or not is_valid_subject(subject):
                raise errors.invalid_config("invalid subject")  # (sic: nats-server's 10052)
        for index, subject in enumerate(filters):
            if any(subjects_collide(subject, other) for other in filters[index + 1 :]):
                raise errors.ApiError(400, 10138, "consumer subject filters cannot overlap")
        start_time = _start_time(policy, body, filters)
        backoff = tuple(_nanos_list(body, "backoff"))
        max_deliver = max(_int(body, "max_deliver"), 0) or -1  # 0 or negative: unlimited
        if backoff and 0 < max_deliver < len(backoff):  # (as 2.15 checks it)
            raise errors.ApiError(
                400, 10116, "max deliver is required to be > length of backoff values"
            )
        replicas = _int(body, "num_replicas")
        if replicas > 1:
            raise errors.ApiError(500, 10074, "replicas > 1 not supported in non-clustered mode")
        max_batch, max_expires = _int(body, "max_batch"), _nanos(body, "max_expires")
        if max_batch < 0:
            raise errors.ApiError(400, 10114, "consumer max request batch needs to be > 0")
        if 0 < max_expires < 1_000_000:
            raise errors.ApiError(400, 10115, "consumer max request expires needs to be >= 1ms")
        limits = limits or {}
        durable = bool(body.get("durable_name"))
        inactive = max(_int(body, "inactive_threshold"), 0)  # negative: none, as nats-server
        inactive_limit = limits.get("inactive_threshold", 0)
        if inactive_limit and inactive > inactive_limit:
            raise errors.ApiError(
                400,
                10153,
                f"consumer inactive threshold exceeds system limit of {_duration(inactive_limit)}",
            )
        if not inactive:  # the stream's limit is every consumer's default, durable or not
            inactive = inactive_limit or (0 if durable else DEFAULT_INACTIVE)
        ack_wait = _int(body, "ack_wait")
        if ack_wait < 0:
            raise errors.ApiError(400, 10183, "consumer ack wait needs to be positive")
        if backoff:
            ack_wait = backoff[0]
        elif not ack_wait and ack != "none":
            ack_wait = DEFAULT_ACK_WAIT
        pending = _int(body, "max_ack_pending")
        pending_limit = limits.get("max_ack_pending", 0)
        if pending_limit and pending > pending_limit:
            raise errors.ApiError(
                400, 10121, f"consumer max ack pending exceeds system limit of {pending_limit}"
            )
        if not pending and ack != "none":
            pending = pending_limit or DEFAULT_MAX_ACK_PENDING
        pause_until = 0
        if body.get("pause_until"):
            try:
                pause_until = parse_go_time(body["pause_until"])
            except ValueError as exc:
                raise errors.invalid_json(str(exc)) from None
        return cls(
            name=name,
            durable=durable,
            deliver_policy=policy,
            opt_start_seq=_int(body, "opt_start_seq"),
            opt_start_time=start_time,
            ack_policy=ack,
            ack_wait=ack_wait,
            max_deliver=max_deliver,
            backoff=backoff,
            filter_subjects=tuple(filters),
            max_waiting=0 if deliver else (_int(body, "max_waiting") or DEFAULT_MAX_WAITING),
            max_ack_pending=pending,
            flow_control=flow_control,
            idle_heartbeat=heartbeat,
            headers_only=bool(body.get("headers_only")),
            max_batch=max_batch,
            max_expires=max_expires,
            max_bytes=_int(body, "max_bytes"),
            deliver_subject=deliver,
            deliver_group=str(body.get("deliver_group") or "") if deliver else "",
            inactive_threshold=inactive,
            num_replicas=replicas,
            mem_storage=bool(body.get("mem_storage")),
            description=str(body.get("description") or ""),
            metadata={
                str(k): str(v)
                for k, v in (body.get("metadata") or {}).items()
                if not str(k).startswith("_nats")
            },
            pause_until=pause_until,
            sample_freq=sample_freq,
        )

    def paused(self, now: int) -> bool:
        """True while pause_until lies in the future."""
        return self.pause_until > now

    def with_pause(self, until: int) -> ConsumerConfig:
        """The same config paused until `until` (0: resumed)."""
        return replace(self, pause_until=until)

    def same_as(self, other: ConsumerConfig) -> bool:
        """Equal for CREATE's idempotency check (metadata and pause aside)."""
        return replace(self, metadata={}, pause_until=0) == replace(
            other, metadata={}, pause_until=0
        )

    def check_update(self, new: ConsumerConfig, *, bound: bool) -> None:
        """CONSUMER.CREATE on an existing consumer with another config: nats-server's rules
        for what may change (`bound`: someone listens on the old deliver subject)."""
        fixed = (
            ("deliver_policy", "deliver policy"),
            ("opt_start_seq", "start sequence"),
            ("opt_start_time", "start time"),
            ("ack_policy", "ack policy"),
            ("idle_heartbeat", "heart beats"),
            ("flow_control", "flow control"),
        )
        for key, what in fixed:
            if getattr(self, key) != getattr(new, key):
                raise errors.ApiError(500, 10012, f"{what} can not be updated")
        if self.deliver_subject != new.deliver_subject:
            if not self.deliver_subject:
                raise errors.ApiError(500, 10012, "can not update pull consumer to push based")
            if not new.deliver_subject:
                raise errors.ApiError(500, 10012, "can not update push consumer to pull based")
            if bound:
                raise errors.consumer_exists()
        if self.max_waiting != new.max_waiting:
            raise errors.ApiError(500, 10012, "max waiting can not be updated")
        if self.mem_storage != new.mem_storage:
            raise errors.ApiError(500, 10012, "storage type can not be updated")

    def to_json(self, *, full_metadata: bool = True) -> dict[str, Any]:
        """The `config` object in nats-server's field order."""
        out: dict[str, Any] = {}
        if self.durable:
            out["durable_name"] = self.name
        out["name"] = self.name
        if self.description:
            out["description"] = self.description
        out["deliver_policy"] = self.deliver_policy
        if self.opt_start_seq:
            out["opt_start_seq"] = self.opt_start_seq
        if self.opt_start_time:
            out["opt_start_time"] = go_time(self.opt_start_time)
        out["ack_policy"] = self.ack_policy
        if self.ack_wait:
            out["ack_wait"] = self.ack_wait
        out["max_deliver"] = self.max_deliver
        if self.backoff:
            out["backoff"] = list(self.backoff)
        if len(self.filter_subjects) == 1:
            out["filter_subject"] = self.filter_subjects[0]
        elif self.filter_subjects:
            out["filter_subjects"] = list(self.filter_subjects)
        out["replay_policy"] = "instant"
        if self.sample_freq:
            out["sample_freq"] = self.sample_freq
        if self.max_waiting:  # a pull option, omitted for push
            out["max_waiting"] = self.max_waiting
        if self.max_ack_pending:
            out["max_ack_pending"] = self.max_ack_pending
        if self.flow_control:
            out["flow_control"] = True
        if self.idle_heartbeat:
            out["idle_heartbeat"] = self.idle_heartbeat
        if self.headers_only:
            out["headers_only"] = True
        for key in ("max_batch", "max_expires", "max_bytes"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.deliver_subject:
            out["deliver_subject"] = self.deliver_subject
            if self.deliver_group:
                out["deliver_group"] = self.deliver_group
        if self.inactive_threshold:
            out["inactive_threshold"] = self.inactive_threshold
        out["num_replicas"] = self.num_replicas
        if self.mem_storage:
            out["mem_storage"] = True
        meta = dict(self.metadata)
        meta["_nats.req.level"] = "1" if self.pause_until else "0"
        if full_metadata:
            meta.update({"_nats.level": str(API_LEVEL), "_nats.ver": SERVER_VERSION})
        out["metadata"] = dict(sorted(meta.items()))
        if self.pause_until:
            out["pause_until"] = go_time(self.pause_until)
        return out

    def json_for_state(self) -> dict[str, Any]:
        """What a durable consumer persists of its config (as a CREATE body would say it)."""
        body = self.to_json(full_metadata=False)
        body["metadata"] = dict(self.metadata)
        return body


_GO_INT = re.compile(r"[+-]?[0-9]+")
_JSON_TYPES = {bool: "bool", int: "number", float: "number", list: "array", dict: "object"}


def sampling_percent(sample_freq: object) -> int:
    """The percentage of acks a consumer's sample_freq samples (0: none, 100 or more: all),
    read as nats-server does: one "%" trimmed, Go's Atoi, kept as an int32; ApiError if not."""
    if not isinstance(sample_freq, str):
        kind = _JSON_TYPES.get(type(sample_freq), "value")
        raise errors.invalid_json(
            f"json: cannot unmarshal {kind} into Go struct field "
            "CreateConsumerRequest.config.sample_freq of type string"
        )
    if not sample_freq:
        return 0
    text = sample_freq.removesuffix("%")
    problem = None
    if not _GO_INT.fullmatch(text):
        problem = f'strconv.Atoi: parsing "{text}": invalid syntax'
    elif not -(2**63) <= int(text) < 2**63:
        problem = f'strconv.Atoi: parsing "{text}": value out of range'
    elif int(text) < 0:
        problem = "<nil>"  # nats-server formats its nil error here
    if problem is not None:
        raise errors.ApiError(
            400, 10095, f"failed to parse consumer sampling configuration: {problem}"
        )
    return (int(text) + 2**31) % 2**32 - 2**31  # Go's int32(n)


_POLICY_WORDS = {
    "all": "deliver all",
    "last": "deliver last",
    "new": "deliver new",
    "by_start_sequence": "deliver by start sequence",
    "by_start_time": "deliver by start time",
    "last_per_subject": "deliver last per subject",
}


def _start_time(policy: str, body: dict[str, Any], filters: list[str]) -> int:
    """nats-server's rules tying deliver_policy to opt_start_seq / opt_start_time (and a filter
    for last_per_subject); returns opt_start_time in nanoseconds (0 when unset)."""

    def refuse(what: str) -> errors.ApiError:
        words = _POLICY_WORDS[policy]
        return errors.ApiError(400, 10094, f"consumer delivery policy is {words}, but {what}")

    has_seq, has_time = bool(_int(body, "opt_start_seq")), bool(body.get("opt_start_time"))
    if policy == "by_start_sequence" and not has_seq:
        raise refuse("optional start sequence is not set")
    if policy == "by_start_time" and not has_time:
        raise refuse("optional start time is not set")
    if policy != "by_start_sequence" and has_seq:
        raise refuse("optional start sequence is also set")
    if policy != "by_start_time" and has_time:
        raise refuse("optional start time is also set")
    if policy == "last_per_subject" and not filters:
        raise refuse("optional filter subject is not set")
    if not has_time:
        return 0
    try:
        return parse_go_time(body["opt_start_time"])
    except ValueError as exc:
        raise errors.invalid_json(str(exc)) from None


def _int(body: dict[str, Any], key: str) -> int:
    value = body.get(key) or 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise errors.invalid_json(f"consumer {key} must be an integer, got {value!r}")
    return value


def _nanos(body: dict[str, Any], key: str) -> int:
    value = _int(body, key)
    if value < 0:
        raise errors.invalid_json(f"consumer {key} must not be negative")
    return value


def _nanos_list(body: dict[str, Any], key: str) -> list[int]:
    values = body.get(key) or []
    if not isinstance(values, list):
        raise errors.invalid_json(f"consumer {key} must be a list of durations")
    return [_nanos({key: v}, key) for v in values]


def _duration(ns: int) -> str:
    """Go's time.Duration String() for whole and fractional seconds (enough for limits)."""
    seconds = ns / 1_000_000_000
    return f"{seconds:g}s"
