"""What a stream's store holds, as the API reports it: the `state` of STREAM.INFO, messages
per subject, the deleted sequences, one message for MSG.GET / DIRECT.GET, and the newest
sequence per subject (deliver_policy last_per_subject). Pure reads over the store."""

from __future__ import annotations

from typing import Any

from nscpy.jwt.subject import subject_matches
from server_stub.jetstream import errors
from server_stub.jetstream.apiwire import request_int
from server_stub.jetstream.memstore import MemStore, StoredMsg
from server_stub.jetstream.wire import go_time


def get_msg(store: MemStore, body: dict[str, Any]) -> StoredMsg:
    """STREAM.MSG.GET by `seq`, `last_by_subj`, or `seq` + `next_by_subj`."""
    if body.get("last_by_subj"):
        msg = store.last_for_subject(str(body["last_by_subj"]))
    elif body.get("next_by_subj"):
        msg = store.next_matching(
            request_int(body.get("seq", 0) or 0), (str(body["next_by_subj"]),)
        )
    elif "seq" in body:
        msg = store.get(request_int(body["seq"]))
    else:
        raise errors.bad_request("request must set seq, last_by_subj or next_by_subj")
    if msg is None:
        raise errors.no_message_found()
    return msg


def last_per_subject(store: MemStore, filters: tuple[str, ...]) -> list[int]:
    """The newest sequence of each subject matching `filters`, in stream order."""
    last: dict[str, int] = {}
    for msg in store.iter_from(store.first_seq):
        if not filters or any(subject_matches(f, msg.subject) for f in filters):
            last[msg.subject] = msg.seq
    return sorted(last.values())


def subject_counts(store: MemStore, pattern: str) -> dict[str, int]:
    """Messages per subject for subjects matching `pattern` (stream info subjects_filter)."""
    counts: dict[str, int] = {}
    for msg in store.iter_from(store.first_seq):
        if subject_matches(pattern, msg.subject):
            counts[msg.subject] = counts.get(msg.subject, 0) + 1
    return counts


def deleted(store: MemStore) -> list[int]:
    """Interior sequences no longer held (stream info deleted_details)."""
    return [s for s in range(store.first_seq, store.last_seq + 1) if store.get(s) is None]


def state_json(store: MemStore, consumer_count: int) -> dict[str, Any]:
    """The `state` object of stream info."""
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
