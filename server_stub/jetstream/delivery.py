"""What consumers send and receive besides messages: status messages, flow control, pulls.

All pure: `FlowControl` is nats-server's byte window for push consumers with flow control, and
`PullRequest` is one CONSUMER.MSG.NEXT request as a consumer keeps it while it waits.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server_stub.jetstream.consumerconfig import ConsumerConfig
from server_stub.jetstream.wire import go_duration

# Pull request fields of nats-server's priority groups: refused, never ignored
_UNSUPPORTED_PULL = ("group", "min_pending", "min_ack_pending", "id", "priority")
# nats-server's JsFlowControlMaxPending: the window starts at 1/16 of it and doubles per reply
FLOW_CONTROL_MAX_PENDING = 32 * 1024 * 1024
_TOKEN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message for the engine to publish: to `to`, shown with `subject` where that differs."""

    to: str
    payload: bytes = b""
    reply: str | None = None
    headers: dict[str, str] | None = None
    subject: str | None = None  # the stream subject of a delivered message


def status(to: str, code: int, text: str, extra: dict[str, str] | None = None) -> Outgoing:
    """A status message as nats-server sends to pull requests and push subscribers."""
    headers = {"Status": str(code), "Description": text}
    headers.update(extra or {})
    return Outgoing(to=to, headers=headers)


class FlowControl:
    """The byte window of a push consumer with flow control, counted as nats-server does.

    Past half the window a "100 FlowControl Request" goes out with a `$JS.FC...` reply; past
    the whole window delivery stalls until the subscriber answers that reply, which widens
    the window (up to FLOW_CONTROL_MAX_PENDING) and releases the bytes it covered.
    """

    def __init__(self, reply_prefix: str, random: Callable[[int], bytes] = os.urandom) -> None:
        self._prefix = reply_prefix  # $JS.FC.<stream>.<consumer>
        self._random = random
        self.window = FLOW_CONTROL_MAX_PENDING // 16
        self.pending = 0  # bytes delivered and not yet covered by a reply
        self.reply = ""  # the outstanding request's reply subject
        self._covered = 0

    def stalled(self) -> bool:
        """True while delivery must wait for the subscriber's reply."""
        return self.pending > self.window

    def delivered(self, size: int, deliver_subject: str) -> Outgoing | None:
        """Count a delivery; returns a flow control request when one is due."""
        self.pending += size
        if not self.reply and self.pending > self.window // 2:
            token = "".join(_TOKEN_ALPHABET[b % len(_TOKEN_ALPHABET)] for b in self._random(4))
            self.reply, self._covered = f"{self._prefix}.{token}", self.pending
            headers = {"Status": "100", "Description": "FlowControl Request"}
            return Outgoing(to=deliver_subject, reply=self.reply, headers=headers)
        if self.reply and self.pending - self._covered >= self.window:
            self._covered += size
        return None

    def answered(self, subject: str) -> bool:
        """The subscriber replied on `subject`; False for anything but the latest request."""
        if not self.reply or subject != self.reply:
            return False
        self.window = min(self.window * 2, FLOW_CONTROL_MAX_PENDING)
        self.pending = max(0, self.pending - self._covered)
        self.reply, self._covered = "", 0
        return True


class PullRequestError(ValueError):
    """A CONSUMER.MSG.NEXT body nats-server would answer with 400 Bad Request."""


def parse_pull_request(payload: bytes) -> dict[str, Any]:
    """A MSG.NEXT body as nats-server reads it: empty, a JSON object, or a plain batch number."""
    text = payload.strip()
    if not text:
        return {}
    if text.startswith(b"{"):
        try:
            body = json.loads(text)
        except ValueError as exc:
            raise PullRequestError(str(exc)) from None
        if not isinstance(body, dict):
            raise PullRequestError("request must be an object")
        return body
    try:
        return {"batch": int(text)}
    except ValueError:
        return {}


@dataclass(slots=True)
class PullRequest:
    """A waiting pull request: what it still wants, when it expires, when it is due a beat."""

    reply: str
    batch: int
    expires_at: int  # 0: no expiry
    no_wait: bool
    bytes_left: int = 0  # 0: no byte budget
    heartbeat: int = 0
    next_beat: int = 0
    delivered: int = 0
    exhausted: bool = False  # the next message did not fit the byte budget

    def open(self) -> bool:
        """True while the request still wants messages."""
        return self.batch > 0 and not self.exhausted

    def too_big(self) -> Outgoing:
        """409 for a request whose byte budget cannot take the next message."""
        pending = {"Nats-Pending-Messages": str(self.batch)}
        pending["Nats-Pending-Bytes"] = str(self.bytes_left)
        return status(self.reply, 409, "Message Size Exceeds MaxBytes", pending)

    def timed_out(self) -> Outgoing:
        """408 for a request that expired still wanting messages."""
        pending = {"Nats-Pending-Messages": str(self.batch)}
        pending["Nats-Pending-Bytes"] = str(self.bytes_left)
        return status(self.reply, 408, "Request Timeout", pending)


def read_pull_request(
    reply: str, body: dict[str, Any], config: ConsumerConfig, now: int
) -> PullRequest | Outgoing:
    """A MSG.NEXT body checked against the consumer's request limits, in nats-server's order;
    the status to answer instead when it is refused."""
    if config.deliver_subject:
        return status(reply, 409, "Consumer is push based")
    for key in _UNSUPPORTED_PULL:
        if body.get(key):
            return status(reply, 400, f"Bad Request - server_stub does not support {key}")
    try:
        batch = int(body.get("batch") or 1)
        expires = int(body.get("expires") or 0)
        max_bytes = int(body.get("max_bytes") or 0)
        heartbeat = int(body.get("idle_heartbeat") or 0)
    except (TypeError, ValueError):
        return status(reply, 400, "Bad Request")
    if heartbeat > 0 and heartbeat * 2 > expires:
        return status(reply, 400, "Bad Request - heartbeat value too large")
    if batch <= 0:
        return status(reply, 400, "Bad Request")
    if config.max_batch and batch > config.max_batch:
        return status(reply, 409, f"Exceeded MaxRequestBatch of {config.max_batch}")
    if config.max_expires and expires > config.max_expires:
        limit = go_duration(config.max_expires)
        return status(reply, 409, f"Exceeded MaxRequestExpires of {limit}")
    if config.max_bytes and max_bytes > config.max_bytes:
        return status(reply, 409, f"Exceeded MaxRequestMaxBytes of {config.max_bytes}")
    return PullRequest(
        reply,
        batch,
        now + expires if expires else 0,
        bool(body.get("no_wait", False)),
        max_bytes,
        heartbeat,
        now + heartbeat if heartbeat else 0,
    )
