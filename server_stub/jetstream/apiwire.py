"""The JetStream API's request and response shapes as nats-server decodes and writes them.

Which requests must come without a body, which fields each body may carry (nats-server's
decoder is strict: anything else is 10025 "unknown field"), what an error response carries
besides `error`, and the small encoders the handlers share.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from typing import Any

from server_stub.jetstream import errors
from server_stub.jetstream.memstore import StoredMsg
from server_stub.jetstream.wire import go_time

_NAME_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Requests nats-server refuses a body for, the fields it decodes for the others (strictly),
# and the fields its error responses carry besides `error`.
EMPTY_BODY = {"stream_delete_response", "consumer_delete_response", "consumer_info_response"}
BODY_KEYS: dict[str, set[str]] = {
    "stream_info_response": {"subjects_filter", "deleted_details", "offset"},
    "stream_names_response": {"offset", "subject"},
    "stream_list_response": {"offset", "subject"},
    "stream_purge_response": {"filter", "seq", "keep"},
    "stream_msg_get_response": {
        "seq", "last_by_subj", "next_by_subj", "no_hdr", "batch", "max_bytes", "multi_last",
        "up_to_seq", "up_to_time", "start_time",
    },
    "stream_msg_delete_response": {"seq", "no_erase"},
    "consumer_names_response": {"offset"},
    "consumer_list_response": {"offset"},
    "consumer_pause_response": {"pause_until"},
}  # fmt: skip
ERROR_EXTRAS: dict[str, dict[str, Any]] = {
    "stream_info_response": {"total": 0, "offset": 0, "limit": 0},
    "stream_names_response": {"total": 0, "offset": 0, "limit": 0, "streams": None},
    "stream_list_response": {"total": 0, "offset": 0, "limit": 0, "streams": []},
    "consumer_names_response": {"total": 0, "offset": 0, "limit": 0, "consumers": []},
    "consumer_list_response": {"total": 0, "offset": 0, "limit": 0, "consumers": []},
    "stream_purge_response": {"purged": 0},
    "consumer_pause_response": {"paused": False, "pause_until": go_time(0)},
}


def message_json(msg: StoredMsg) -> dict[str, Any]:
    """The `message` object of STREAM.MSG.GET."""
    out: dict[str, Any] = {"subject": msg.subject, "seq": msg.seq}
    if msg.hdrs:
        out["hdrs"] = base64.b64encode(msg.hdrs).decode()
    out["data"] = base64.b64encode(msg.data).decode()
    out["time"] = go_time(msg.ts)
    return out


def request_int(value: object) -> int:
    """An integer field of a request body; anything else is a bad request."""
    try:
        return int(str(value))
    except ValueError:
        raise errors.bad_request(f"expected an integer, got {value!r}") from None


def page_offset(body: dict[str, Any]) -> int:
    """The `offset` of a NAMES / LIST request."""
    offset = body.get("offset") or 0
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise errors.invalid_json(f"offset must be a positive integer, got {offset!r}")
    return offset


def empty_request(payload: bytes) -> bool:
    """nats-server's isEmptyRequest: no bytes, or a JSON object without fields."""
    if not payload.strip():
        return True
    try:
        value: object = json.loads(payload)
    except ValueError:
        return False
    return value == {}


def insert_after(state: dict[str, Any], after: str, key: str, value: Any) -> dict[str, Any]:
    """`state` with `key` placed right after `after`, where nats-server puts it."""
    out: dict[str, Any] = {}
    for name, item in state.items():
        out[name] = item
        if name == after:
            out[key] = value
    return out


def random_name(rng: Callable[[int], bytes] = os.urandom) -> str:
    """An 8-character ephemeral consumer name, as nats-server generates."""
    return "".join(_NAME_ALPHABET[b % len(_NAME_ALPHABET)] for b in rng(8))


# APIs nats-server 2.15 serves that the stub does not: refused with its codes and texts
def not_clustered(account: Any, body: dict[str, Any], now: int, *names: str) -> Any:
    """Leader stepdowns and peer removal: nats-server's answer when not clustered."""
    raise errors.ApiError(503, 10010, "JetStream clustering support required")


def no_snapshots(account: Any, body: dict[str, Any], now: int, *names: str) -> Any:
    """STREAM.SNAPSHOT / RESTORE: refused (nats-server streams a tar archive)."""
    account.find_stream(names[0])
    raise errors.bad_request("server_stub does not support stream snapshot and restore")


def no_priority_groups(account: Any, body: dict[str, Any], now: int, *names: str) -> Any:
    """CONSUMER.UNPIN: priority groups are refused at consumer creation, so none exist."""
    account.find_consumer(names[0], names[1])
    raise errors.consumer_unsupported("priority_groups (pinned/overflow pull consumers)")
