"""A consumer's configuration: CONSUMER.CREATE validation and nats-server's JSON field order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nscpy.jwt.subject import is_valid_subject
from server_stub.jetstream import errors
from server_stub.jetstream.stream import API_LEVEL, SERVER_VERSION

DEFAULT_ACK_WAIT = 30_000_000_000
DEFAULT_INACTIVE = 5_000_000_000
_POLICIES = ("all", "last", "new", "by_start_sequence")
_BAD_NAME_CHARS = set(".*> \t\r\n/\\")


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    """The part of nats-server's ConsumerConfig the stub serves (pull, and push without flow
    control)."""

    name: str
    durable: bool
    deliver_policy: str = "all"
    opt_start_seq: int = 0
    ack_policy: str = "explicit"
    ack_wait: int = DEFAULT_ACK_WAIT
    max_deliver: int = -1
    filter_subjects: tuple[str, ...] = ()
    max_waiting: int = 512
    max_ack_pending: int = 1000
    inactive_threshold: int = 0
    deliver_subject: str = ""  # set: a push consumer delivering there
    deliver_group: str = ""
    idle_heartbeat: int = 0  # nanoseconds
    description: str = ""
    metadata: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_request(cls, body: dict[str, Any], name: str) -> ConsumerConfig:
        """Validate a CONSUMER.CREATE config (already named); raises ApiError."""
        deliver = body.get("deliver_subject") or ""
        heartbeat = int(body.get("idle_heartbeat") or 0)
        if deliver and not isinstance(deliver, str):
            raise errors.ApiError(400, 10084, "deliver_subject must be a string")
        if body.get("flow_control"):
            if not heartbeat:
                raise errors.ApiError(
                    400, 10108, "consumer with flow control also needs heartbeats"
                )
            raise errors.flow_control_unsupported()
        if _BAD_NAME_CHARS & set(name):
            raise errors.ApiError(400, 10103, "consumer name can not contain path separators")
        policy = body.get("deliver_policy", "all") or "all"
        if policy not in _POLICIES:
            raise errors.ApiError(
                400, 10084, f"server_stub does not support deliver_policy {policy}"
            )
        ack = body.get("ack_policy", "explicit") or "explicit"
        if ack not in ("explicit", "all", "none"):
            raise errors.ApiError(400, 10084, f"unknown ack_policy {ack}")
        filters = list(body.get("filter_subjects") or [])
        if body.get("filter_subject"):
            filters.insert(0, body["filter_subject"])
        for subject in filters:
            if not isinstance(subject, str) or not is_valid_subject(subject):
                raise errors.ApiError(400, 10093, "consumer filter subject is not a valid subset")
        durable = bool(body.get("durable_name"))
        inactive = int(body.get("inactive_threshold") or 0)
        if not durable and not inactive:
            inactive = DEFAULT_INACTIVE
        return cls(
            name=name,
            durable=durable,
            deliver_policy=policy,
            opt_start_seq=int(body.get("opt_start_seq") or 0),
            ack_policy=ack,
            ack_wait=int(body.get("ack_wait") or DEFAULT_ACK_WAIT),
            max_deliver=int(body.get("max_deliver") or -1),
            filter_subjects=tuple(filters),
            max_waiting=int(body.get("max_waiting") or 512),
            max_ack_pending=int(body.get("max_ack_pending") or 1000),
            inactive_threshold=inactive,
            deliver_subject=deliver,
            deliver_group=str(body.get("deliver_group") or "") if deliver else "",
            idle_heartbeat=heartbeat if deliver else 0,
            description=str(body.get("description") or ""),
            metadata={str(k): str(v) for k, v in (body.get("metadata") or {}).items()},
        )

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
        out["ack_policy"] = self.ack_policy
        if self.ack_policy != "none":
            out["ack_wait"] = self.ack_wait
        out["max_deliver"] = self.max_deliver
        if len(self.filter_subjects) == 1:
            out["filter_subject"] = self.filter_subjects[0]
        elif self.filter_subjects:
            out["filter_subjects"] = list(self.filter_subjects)
        out["replay_policy"] = "instant"
        if not self.deliver_subject:  # max_waiting is a pull option, omitted for push
            out["max_waiting"] = self.max_waiting
        out["max_ack_pending"] = self.max_ack_pending
        if self.idle_heartbeat:
            out["idle_heartbeat"] = self.idle_heartbeat
        if self.deliver_subject:
            out["deliver_subject"] = self.deliver_subject
            if self.deliver_group:
                out["deliver_group"] = self.deliver_group
        if not self.durable:
            out["inactive_threshold"] = self.inactive_threshold
        out["num_replicas"] = 0
        meta = dict(self.metadata)
        meta["_nats.req.level"] = "0"
        if full_metadata:
            meta.update({"_nats.level": str(API_LEVEL), "_nats.ver": SERVER_VERSION})
        out["metadata"] = dict(sorted(meta.items()))
        return out

    def json_for_state(self) -> dict[str, Any]:
        """What a durable consumer persists of its config."""
        body = self.to_json(full_metadata=False)
        body["metadata"] = dict(self.metadata)
        return body
