"""The `$JS.API.STREAM.*` handlers: create, update, info, delete, names, list, purge and the
stored messages (MSG.GET, MSG.DELETE).

Each handler takes the account, the decoded request body, the time and the name tokens of the
subject, and returns the response body without `type` (`api` adds it) or raises an ApiError
with nats-server's code and text.
"""

from __future__ import annotations

from typing import Any

from nscpy.jwt.subject import subjects_collide
from server_stub.jetstream import advisories, errors, retention
from server_stub.jetstream.account import JsAccount
from server_stub.jetstream.apiwire import insert_after, message_json, page_offset
from server_stub.jetstream.stream import Stream, StreamConfig
from server_stub.jetstream.streamstate import deleted, get_msg, state_json, subject_counts
from server_stub.jetstream.wire import go_time

NAMES_LIMIT = 1024  # a page of STREAM.NAMES / CONSUMER.NAMES
LIST_LIMIT = 256  # a page of STREAM.LIST / CONSUMER.LIST
_SUBJECTS_LIMIT = 100_000


def stream_create(account: JsAccount, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
    """STREAM.CREATE: a new stream, or the same config again (answered as created)."""
    config = StreamConfig.from_request(body)
    if config.name != name:
        raise errors.stream_name_mismatch()
    existing = account.streams.get(name)
    if existing is not None:
        if not existing.config.same_as(config):
            raise errors.stream_name_exists()
        return stream_info_body(account, existing, now) | {"did_create": True}
    if config.sealed:
        raise errors.invalid_config("stream configuration for create can not be sealed")
    _check_stream_limits(account, config)
    store = account.host.open_store(account.name, config, now)
    store.start_at(config.first_seq)
    stream = Stream(config, store, now)
    account.streams[name] = stream
    account.consumers[name] = {}
    account.host.stream_changed(account.name, stream, added=True)
    account.host.advise(account.name, advisories.stream_action(name, "CREATED"))
    return stream_info_body(account, stream, now) | {"did_create": True}


def _check_stream_limits(account: JsAccount, config: StreamConfig, *, updating: str = "") -> None:
    limits = account.limits
    for other in account.streams.values():
        if other.name == config.name:
            continue
        for mine in config.subjects:
            if any(subjects_collide(mine, theirs) for theirs in other.config.subjects):
                raise errors.subjects_overlap()
    if not updating and 0 < limits.max_streams <= len(account.streams):
        raise errors.max_streams()
    memory = config.storage == "memory"
    limit = limits.max_memory if memory else limits.max_storage
    per_stream = limits.memory_max_stream_bytes if memory else limits.storage_max_stream_bytes
    if limits.max_bytes_required and config.max_bytes <= 0:
        raise errors.ApiError(400, 10113, "account requires a stream config to have max bytes set")
    if per_stream > 0 and config.max_bytes > per_stream:
        raise errors.ApiError(400, 10122, "stream max bytes exceeds account limit max stream bytes")
    # nats-server counts a stream without max_bytes as one byte, so a 0 limit refuses it
    wanted = config.max_bytes if config.max_bytes >= 0 else 1
    if limit >= 0 and account.reserved(config.storage, skip=updating) + wanted > limit:
        raise errors.memory_exceeded() if memory else errors.storage_exceeded()
    room = account.host.server_room(config.storage, (account.name, config.name))
    if room >= 0 and wanted > room:  # the server's max_memory_store / max_file_store
        raise errors.memory_exceeded() if memory else errors.storage_exceeded()


def stream_info_body(
    account: JsAccount, stream: Stream, now: int, *, full: bool = True
) -> dict[str, Any]:
    """A stream's config, created time and state, as STREAM.INFO and STREAM.LIST show it."""
    return {
        "config": stream.config.to_json(full_metadata=full),
        "created": go_time(stream.created),
        "state": state_json(stream.store, len(account.consumers.get(stream.name, {}))),
        "ts": go_time(now),
    }


def stream_update(account: JsAccount, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
    """STREAM.UPDATE: a changed config (only what nats-server allows to change)."""
    stream = account.find_stream(name)
    config = StreamConfig.from_request(body)
    if config.name != name:
        raise errors.stream_name_mismatch()
    stream.config.check_update(config)
    if config.sealed:
        config = config.sealing()
    _check_stream_limits(account, config, updating=name)
    stream.config = config
    stream.enforce_limits(now)
    for consumer in account.consumers[name].values():
        account.track_retention(consumer)
    retention.retire_all(stream, account.consumers[name].values())
    account.host.stream_changed(account.name, stream, added=False)
    account.host.advise(account.name, advisories.stream_action(name, "UPDATED"))
    return stream_info_body(account, stream, now)


def stream_info(account: JsAccount, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
    """STREAM.INFO, with a page of per-subject counts and the deleted sequences if asked."""
    stream = account.find_stream(name)
    info: dict[str, Any] = {"total": 0, "offset": 0, "limit": 0}
    info.update(stream_info_body(account, stream, now))
    state = info["state"]
    pattern = body.get("subjects_filter") or ""
    counts = subject_counts(stream.store, pattern) if pattern and state["messages"] else {}
    if counts:
        offset = page_offset(body)
        page = dict(sorted(counts.items())[offset : offset + _SUBJECTS_LIMIT])
        info.update(total=len(counts), offset=offset, limit=_SUBJECTS_LIMIT)
        state = insert_after(state, "num_subjects", "subjects", page)
    if body.get("deleted_details") and state.get("num_deleted"):
        state = insert_after(state, "num_deleted", "deleted", deleted(stream.store))
    info["state"] = state
    ts = info.pop("ts")
    info["cluster"] = {"leader": "server_stub"}
    info["ts"] = ts
    return info


def stream_delete(account: JsAccount, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
    """STREAM.DELETE: the stream, its consumers and its files."""
    stream = account.find_stream(name)
    for consumer in list(account.consumers.get(name, {}).values()):
        account.remove_consumer(consumer)
    del account.streams[name]
    account.consumers.pop(name, None)
    account.host.stream_removed(account.name, stream)
    account.host.advise(account.name, advisories.stream_action(name, "DELETED"))
    return {"success": True}


def stream_names(account: JsAccount, body: dict[str, Any], now: int) -> dict[str, Any]:
    """STREAM.NAMES: a page of names, optionally of the streams covering `subject`."""
    names = _filtered_names(account, body)
    offset = page_offset(body)
    page = names[offset : offset + NAMES_LIMIT] or None  # Go's nil slice: null
    return {"total": len(names), "offset": offset, "limit": NAMES_LIMIT, "streams": page}


def stream_list(account: JsAccount, body: dict[str, Any], now: int) -> dict[str, Any]:
    """STREAM.LIST: a page of stream infos (metadata without the server's own keys)."""
    names = _filtered_names(account, body)
    offset = page_offset(body)
    page = [
        stream_info_body(account, account.streams[n], now, full=False)
        for n in names[offset : offset + LIST_LIMIT]
    ]
    return {"total": len(names), "offset": offset, "limit": LIST_LIMIT, "streams": page}


def _filtered_names(account: JsAccount, body: dict[str, Any]) -> list[str]:
    subject = body.get("subject")
    return sorted(
        name
        for name, stream in account.streams.items()
        if not subject or any(subjects_collide(subject, s) for s in stream.config.subjects)
    )


def stream_purge(account: JsAccount, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
    """STREAM.PURGE: all messages, or by filter / up to seq / keeping the last n."""
    stream = account.find_stream(name)
    purged = stream.purge(body)
    return {"success": True, "purged": purged}


def msg_get(account: JsAccount, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
    """STREAM.MSG.GET: one stored message by seq, last or next by subject."""
    stream = account.find_stream(name)
    batched = ("batch", "max_bytes", "multi_last", "up_to_seq", "up_to_time", "start_time")
    if any(body.get(key) for key in batched):
        raise errors.bad_request()  # batched gets are DIRECT.GET only, as in nats-server
    message = message_json(get_msg(stream.store, body))
    if body.get("no_hdr"):
        message.pop("hdrs", None)
    return {"message": message}


def msg_delete(account: JsAccount, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
    """STREAM.MSG.DELETE: one stored message by seq."""
    stream = account.find_stream(name)
    if "seq" not in body:
        raise errors.bad_request()
    stream.delete_msg(int(body["seq"]))
    return {"success": True}
