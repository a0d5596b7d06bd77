"""`$JS.API.DIRECT.GET.<stream>[.<subject>]`: messages answered as themselves, not as JSON.

One message by `seq`, `last_by_subj`, `next_by_subj` or `start_time`; or a batch (`batch`,
`max_bytes`) or the last message of several subjects (`multi_last`, `up_to_seq`,
`up_to_time`), each with Nats-Num-Pending / Nats-Last-Sequence and closed by a "204 EOB"
status, as nats-server 2.15 answers them. Pure: returns the `Outgoing` replies.
"""

from __future__ import annotations

import json
from typing import Any

from nscpy.jwt.subject import subject_matches
from server_stub.jetstream import errors
from server_stub.jetstream.delivery import Outgoing, status
from server_stub.jetstream.memstore import StoredMsg
from server_stub.jetstream.stream import Stream
from server_stub.jetstream.streamstate import get_msg
from server_stub.jetstream.wire import decode_headers, go_time, parse_go_time

_SELECTORS = ("seq", "last_by_subj", "next_by_subj", "multi_last", "start_time")


def direct_get(stream: Stream, reply: str, subject_tail: str, payload: bytes) -> list[Outgoing]:
    """The replies to one direct get request (`subject_tail`: the subject after the stream)."""
    if subject_tail:  # the last message on the subject named in the request subject
        body: Any = {"last_by_subj": subject_tail}
    elif not payload:
        return [status(reply, 408, "Empty Request")]
    else:
        try:
            body = json.loads(payload)
        except ValueError:
            return [status(reply, 408, "Malformed Request")]
        if not isinstance(body, dict) or not any(body.get(k) for k in _SELECTORS):
            return [status(reply, 408, "Empty Request")]
    try:
        start = parse_go_time(body["start_time"]) if body.get("start_time") else 0
        up_to_time = parse_go_time(body["up_to_time"]) if body.get("up_to_time") else 0
        batch = int(body.get("batch") or 0)
        max_bytes = int(body.get("max_bytes") or 0)
        up_to_seq = int(body.get("up_to_seq") or 0)
    except (TypeError, ValueError):
        return [status(reply, 408, "Bad Request")]
    no_hdr = bool(body.get("no_hdr"))
    if body.get("multi_last"):
        filters = body["multi_last"]
        if not isinstance(filters, list) or not all(isinstance(f, str) for f in filters):
            return [status(reply, 408, "Bad Request")]
        up_to = up_to_seq or stream.store.last_seq
        found = _multi_last(stream, tuple(filters), up_to, up_to_time)
        if not found:
            return [status(reply, 404, "No Results")]
        return _batch(stream, reply, found, batch, max_bytes, no_hdr, {"Nats-UpTo-Sequence": up_to})
    if batch:
        if body.get("last_by_subj"):
            return [status(reply, 408, "Bad Request")]
        found = _from(stream, body, start)
        if not found:
            return [status(reply, 404, "Message Not Found")]
        return _batch(stream, reply, found, batch, max_bytes, no_hdr, {})
    if start and not body.get("seq"):
        after = _from(stream, body, start)
        if not after:
            return [status(reply, 404, "Message Not Found")]
        return [_message(stream, reply, after[0], {}, no_hdr)]
    try:
        msg = get_msg(stream.store, body)
    except errors.ApiError:
        return [status(reply, 404, "Message Not Found")]
    return [_message(stream, reply, msg, {}, no_hdr)]


def _from(stream: Stream, body: dict[str, Any], start_time: int) -> list[StoredMsg]:
    """Messages from `seq` (or the first at or after `start_time`) matching next_by_subj."""
    store = stream.store
    first = int(body.get("seq") or 0)
    filt = str(body.get("next_by_subj") or "")
    return [
        m
        for m in store.iter_from(max(first, store.first_seq))
        if (not filt or subject_matches(filt, m.subject)) and m.ts >= start_time
    ]


def _multi_last(
    stream: Stream, filters: tuple[str, ...], up_to: int, up_to_time: int
) -> list[StoredMsg]:
    last: dict[str, StoredMsg] = {}
    for msg in stream.store.iter_from(stream.store.first_seq):
        if msg.seq > up_to or (up_to_time and msg.ts > up_to_time):
            break
        if any(subject_matches(f, msg.subject) for f in filters):
            last[msg.subject] = msg
    return sorted(last.values(), key=lambda m: m.seq)


def _batch(
    stream: Stream,
    reply: str,
    found: list[StoredMsg],
    batch: int,
    max_bytes: int,
    no_hdr: bool,
    eob_extra: dict[str, int],
) -> list[Outgoing]:
    out: list[Outgoing] = []
    limit = batch or len(found)
    previous, spent = 0, 0
    for index, msg in enumerate(found[:limit]):
        pending = len(found) - index - 1
        extra = {"Nats-Num-Pending": pending, "Nats-Last-Sequence": previous}
        out.append(_message(stream, reply, msg, extra, no_hdr))
        previous, spent = msg.seq, spent + len(msg.subject) + len(msg.hdrs) + len(msg.data)
        if max_bytes and spent >= max_bytes:
            break
    eob = {"Nats-Num-Pending": str(len(found) - len(out)), "Nats-Last-Sequence": str(previous)}
    eob.update({k: str(v) for k, v in eob_extra.items()})
    out.append(status(reply, 204, "EOB", eob))
    return out


def _message(
    stream: Stream, reply: str, msg: StoredMsg, extra: dict[str, int], no_hdr: bool
) -> Outgoing:
    if no_hdr:
        return Outgoing(to=reply, payload=msg.data)
    headers = decode_headers(msg.hdrs) or {}
    headers.update(
        {
            "Nats-Stream": stream.name,
            "Nats-Subject": msg.subject,
            "Nats-Sequence": str(msg.seq),
            "Nats-Time-Stamp": go_time(msg.ts),
        }
    )
    headers.update({k: str(v) for k, v in extra.items()})
    return Outgoing(to=reply, payload=msg.data, headers=headers)
