"""One account's JetStream: its streams and consumers, and the `$JS.API` request handlers.

Requests are answered with nats-server's JSON shapes (`type`, then the body or an `error`
object with code / err_code / description). Everything that touches disk or the bus goes
through the `Host` the engine provides, so this module stays free of I/O.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from nscpy.jwt.subject import subjects_collide
from server_stub.jetstream import errors, retention
from server_stub.jetstream.apiwire import (
    BODY_KEYS,
    EMPTY_BODY,
    ERROR_EXTRAS,
    empty_request,
    insert_after,
    message_json,
    no_priority_groups,
    no_snapshots,
    not_clustered,
    page_offset,
    random_name,
)
from server_stub.jetstream.config import JsLimits
from server_stub.jetstream.consumer import Consumer, ConsumerConfig, Outgoing
from server_stub.jetstream.memstore import MemStore
from server_stub.jetstream.stream import API_LEVEL, PublishResult, Stream, StreamConfig
from server_stub.jetstream.wire import go_time, loads_request, parse_go_time

log = logging.getLogger("server_stub.jetstream")
_TYPE = "io.nats.jetstream.api.v1."
_NAMES_LIMIT = 1024
_SUBJECTS_LIMIT = 100_000
_LIST_LIMIT = 256


class Host(Protocol):
    """The side effects an account asks of the engine."""

    def open_store(self, account: str, config: StreamConfig, created: int) -> MemStore:
        """Create (and persist the config of) a new stream's store."""
        ...

    def stream_changed(self, account: str, stream: Stream, *, added: bool) -> None:
        """A stream was created or updated: (re)subscribe its subjects, save its config."""
        ...

    def stream_removed(self, account: str, stream: Stream) -> None:
        """A stream was deleted: unsubscribe and delete its files."""
        ...

    def server_room(self, storage: str, skip: tuple[str, str]) -> int:
        """Bytes the server's limit for `storage` leaves to reserve, not counting the stream
        `skip` (account, name); -1 when the server sets no limit."""
        ...

    def consumer_changed(self, account: str, consumer: Consumer, *, added: bool) -> None:
        """A consumer was created: subscribe its ack and next subjects, save it if durable."""
        ...

    def consumer_removed(self, account: str, consumer: Consumer) -> None:
        """A consumer was deleted: unsubscribe and delete its files."""
        ...

    def consumer_paused(self, account: str, consumer: Consumer, out: list[Outgoing]) -> None:
        """A consumer was paused or resumed: save it, send what resuming delivers."""
        ...


class JsAccount:
    """Streams, consumers and API counters of one JetStream-enabled account."""

    def __init__(self, name: str, limits: JsLimits, host: Host, *, domain: str = "") -> None:
        self.name = name
        self.domain = domain
        self.limits = limits
        self.host = host
        self.streams: dict[str, Stream] = {}
        self.consumers: dict[str, dict[str, Consumer]] = {}
        self.api_total = 0
        self.api_errors = 0

    # -- usage ---------------------------------------------------------------------------
    def usage(self, storage: str) -> int:
        """Bytes held by this account's streams of one storage kind."""
        return sum(s.store.bytes for s in self.streams.values() if s.config.storage == storage)

    def reserved(self, storage: str, *, skip: str = "") -> int:
        """Bytes reserved by max_bytes of this account's streams of one storage kind."""
        return sum(
            max(0, s.config.max_bytes)
            for s in self.streams.values()
            if s.config.storage == storage and s.name != skip
        )

    def stream_for(self, subject: str) -> Stream | None:
        """The stream a published subject lands in."""
        for stream in self.streams.values():
            if stream.covers(subject):
                return stream
        return None

    def publish(
        self, stream: Stream, subject: str, headers: dict[str, str] | None, data: bytes, now: int
    ) -> PublishResult:
        """Store a publish after the account storage check."""
        limit = (
            self.limits.max_memory if stream.config.storage == "memory" else self.limits.max_storage
        )
        if limit >= 0:
            size = stream.store.msg_size(subject, b"", data)
            if self.usage(stream.config.storage) + size > limit:
                error = errors.account_resources_exceeded().to_json()
                return PublishResult({"error": error, "stream": stream.name, "seq": 0})
        result = stream.publish(subject, headers, data, now)
        stored = result.stored
        if stored is not None and stream.config.retention == "interest":
            # nobody wants it: an interest stream does not keep it (the ack still names it)
            if not any(c.wants(stored.subject) for c in self.consumers[stream.name].values()):
                try:
                    stream.store.remove(stored.seq)
                except errors.StoreWriteFailed as exc:  # stored, and kept: still acknowledged
                    log.error("JetStream cannot drop an unwanted msg: %s", exc.description)
        return result

    def track_retention(self, consumer: Consumer) -> None:
        """On an interest or work-queue stream, acks decide when messages go."""
        stream = consumer.stream
        if stream.config.retention == "limits":
            consumer.on_acked = None
            return

        def acked(seqs: list[int]) -> None:
            try:
                retention.retire(stream, self.consumers.get(stream.name, {}).values(), seqs)
            except errors.StoreWriteFailed as exc:  # the ack stands; the message stays
                log.error("JetStream cannot remove acknowledged msgs: %s", exc.description)

        consumer.on_acked = acked

    # -- dispatch ------------------------------------------------------------------------
    def handle(self, subject: str, payload: bytes, now: int) -> dict[str, Any] | None:
        """Answer one `$JS.API.` request; None when nats-server would not answer either."""
        tokens = subject.split(".")[2:]
        route = _route(tokens)
        if route is None:
            return None
        kind, handler, args = route
        try:
            if kind in EMPTY_BODY and not empty_request(payload):
                raise errors.ApiError(400, 10038, "expected an empty request payload")
            body = loads_request(payload)
            known = BODY_KEYS.get(kind)
            unknown = sorted(set(body) - known) if known is not None else []
            if unknown:  # nats-server decodes request bodies strictly
                raise errors.unknown_field(unknown[0])
            return {"type": _TYPE + kind} | handler(self, body, now, *args)
        except errors.ApiError as exc:
            self.api_errors += 1
            response: dict[str, Any] = {"type": _TYPE + kind, "error": exc.to_json()}
            return response | ERROR_EXTRAS.get(kind, {})
        finally:  # counted once answered: account info does not include itself
            self.api_total += 1

    # -- handlers ------------------------------------------------------------------------
    def _info(self, body: dict[str, Any], now: int) -> dict[str, Any]:
        return (
            {
                "memory": self.usage("memory"),
                "storage": self.usage("file"),
                "reserved_memory": self.reserved("memory"),
                "reserved_storage": self.reserved("file"),
                "streams": len(self.streams),
                "consumers": sum(len(c) for c in self.consumers.values()),
                "limits": self.limits.to_json(),
            }
            | ({"domain": self.domain} if self.domain else {})
            | {
                "api": {"level": API_LEVEL, "total": self.api_total, "errors": self.api_errors},
            }
        )

    def _stream_create(self, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
        config = StreamConfig.from_request(body)
        if config.name != name:
            raise errors.stream_name_mismatch()
        existing = self.streams.get(name)
        if existing is not None:
            if not existing.config.same_as(config):
                raise errors.stream_name_exists()
            return self._stream_info_body(existing, now) | {"did_create": True}
        if config.sealed:
            raise errors.invalid_config("stream configuration for create can not be sealed")
        self._check_stream_limits(config)
        store = self.host.open_store(self.name, config, now)
        store.start_at(config.first_seq)
        stream = Stream(config, store, now)
        self.streams[name] = stream
        self.consumers[name] = {}
        self.host.stream_changed(self.name, stream, added=True)
        return self._stream_info_body(stream, now) | {"did_create": True}

    def _check_stream_limits(self, config: StreamConfig, *, updating: str = "") -> None:
        limits = self.limits
        for other in self.streams.values():
            if other.name == config.name:
                continue
            for mine in config.subjects:
                if any(subjects_collide(mine, theirs) for theirs in other.config.subjects):
                    raise errors.subjects_overlap()
        if not updating and 0 < limits.max_streams <= len(self.streams):
            raise errors.max_streams()
        memory = config.storage == "memory"
        limit = limits.max_memory if memory else limits.max_storage
        per_stream = limits.memory_max_stream_bytes if memory else limits.storage_max_stream_bytes
        if limits.max_bytes_required and config.max_bytes <= 0:
            raise errors.ApiError(
                400, 10113, "account requires a stream config to have max bytes set"
            )
        if per_stream > 0 and config.max_bytes > per_stream:
            raise errors.ApiError(
                400, 10122, "stream max bytes exceeds account limit max stream bytes"
            )
        # nats-server counts a stream without max_bytes as one byte, so a 0 limit refuses it
        wanted = config.max_bytes if config.max_bytes >= 0 else 1
        if limit >= 0 and self.reserved(config.storage, skip=updating) + wanted > limit:
            raise errors.memory_exceeded() if memory else errors.storage_exceeded()
        room = self.host.server_room(config.storage, (self.name, config.name))
        if room >= 0 and wanted > room:  # the server's max_memory_store / max_file_store
            raise errors.memory_exceeded() if memory else errors.storage_exceeded()

    def _stream(self, name: str) -> Stream:
        stream = self.streams.get(name)
        if stream is None:
            raise errors.stream_not_found()
        return stream

    def _stream_info_body(self, stream: Stream, now: int, *, full: bool = True) -> dict[str, Any]:
        return {
            "config": stream.config.to_json(full_metadata=full),
            "created": go_time(stream.created),
            "state": stream.state_json(len(self.consumers.get(stream.name, {}))),
            "ts": go_time(now),
        }

    def _stream_update(self, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
        stream = self._stream(name)
        config = StreamConfig.from_request(body)
        if config.name != name:
            raise errors.stream_name_mismatch()
        stream.config.check_update(config)
        if config.sealed:
            config = config.sealing()
        self._check_stream_limits(config, updating=name)
        stream.config = config
        stream.enforce_limits(now)
        for consumer in self.consumers[name].values():
            self.track_retention(consumer)
        retention.retire_all(stream, self.consumers[name].values())
        self.host.stream_changed(self.name, stream, added=False)
        return self._stream_info_body(stream, now)

    def _stream_info(self, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
        stream = self._stream(name)
        info: dict[str, Any] = {"total": 0, "offset": 0, "limit": 0}
        info.update(self._stream_info_body(stream, now))
        state = info["state"]
        pattern = body.get("subjects_filter") or ""
        counts = stream.subject_counts(pattern) if pattern and state["messages"] else {}
        if counts:
            offset = page_offset(body)
            page = dict(sorted(counts.items())[offset : offset + _SUBJECTS_LIMIT])
            info.update(total=len(counts), offset=offset, limit=_SUBJECTS_LIMIT)
            state = insert_after(state, "num_subjects", "subjects", page)
        if body.get("deleted_details") and state.get("num_deleted"):
            state = insert_after(state, "num_deleted", "deleted", stream.deleted())
        info["state"] = state
        ts = info.pop("ts")
        info["cluster"] = {"leader": "server_stub"}
        info["ts"] = ts
        return info

    def _stream_delete(self, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
        stream = self._stream(name)
        for consumer in list(self.consumers.get(name, {}).values()):
            self._remove_consumer(consumer)
        del self.streams[name]
        self.consumers.pop(name, None)
        self.host.stream_removed(self.name, stream)
        return {"success": True}

    def _stream_names(self, body: dict[str, Any], now: int) -> dict[str, Any]:
        names = self._filtered_names(body)
        offset = page_offset(body)
        page = names[offset : offset + _NAMES_LIMIT] or None  # Go's nil slice: null
        return {"total": len(names), "offset": offset, "limit": _NAMES_LIMIT, "streams": page}

    def _stream_list(self, body: dict[str, Any], now: int) -> dict[str, Any]:
        names = self._filtered_names(body)
        offset = page_offset(body)
        page = [
            self._stream_info_body(self.streams[n], now, full=False)
            for n in names[offset : offset + _LIST_LIMIT]
        ]
        return {"total": len(names), "offset": offset, "limit": _LIST_LIMIT, "streams": page}

    def _filtered_names(self, body: dict[str, Any]) -> list[str]:
        subject = body.get("subject")
        return sorted(
            name
            for name, stream in self.streams.items()
            if not subject or any(subjects_collide(subject, s) for s in stream.config.subjects)
        )

    def _stream_purge(self, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
        stream = self._stream(name)
        purged = stream.purge(body)
        return {"success": True, "purged": purged}

    def _msg_get(self, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
        stream = self._stream(name)
        batched = ("batch", "max_bytes", "multi_last", "up_to_seq", "up_to_time", "start_time")
        if any(body.get(key) for key in batched):
            raise errors.bad_request()  # batched gets are DIRECT.GET only, as in nats-server
        message = message_json(stream.get_msg(body))
        if body.get("no_hdr"):
            message.pop("hdrs", None)
        return {"message": message}

    def _msg_delete(self, body: dict[str, Any], now: int, name: str) -> dict[str, Any]:
        stream = self._stream(name)
        if "seq" not in body:
            raise errors.bad_request()
        stream.delete_msg(int(body["seq"]))
        return {"success": True}

    def _consumer_create(
        self, body: dict[str, Any], now: int, stream_name: str, name: str = "", *rest: str
    ) -> dict[str, Any]:
        stream = self._stream(stream_name)
        unknown = sorted(set(body) - {"stream_name", "config", "action", "pedantic"})
        if unknown:
            raise errors.unknown_field(unknown[0])
        if body.get("pedantic"):
            raise errors.consumer_unsupported("pedantic mode")
        action = body.get("action") or ""
        if action not in ("", "create", "update"):
            raise errors.invalid_json(f"unknown consumer action {action!r}")
        raw = body.get("config")
        if not isinstance(raw, dict):
            raise errors.bad_request("consumer config required")
        wanted = raw.get("durable_name") or raw.get("name") or ""
        if not name and raw.get("durable_name"):  # CONSUMER.CREATE.<stream> is for ephemerals
            raise errors.ApiError(
                400,
                10020,
                "consumer expected to be ephemeral but a durable name was set in request",
            )
        if name and wanted and wanted != name:
            raise errors.consumer_name_mismatch()
        name = name or wanted or random_name()
        config = ConsumerConfig.from_request(raw, name, stream.config.consumer_limits)
        if config.deliver_subject and stream.covers(config.deliver_subject):
            raise errors.ApiError(400, 10081, "consumer deliver subject forms a cycle")
        existing = self.consumers[stream_name].get(name)
        if existing is None and action == "update":
            raise errors.ApiError(400, 10149, "consumer does not exist")
        if existing is not None:
            if existing.config.same_as(config):
                return existing.info_json(now)
            if action == "create":
                raise errors.ApiError(400, 10148, "consumer already exists")
            existing.config.check_update(config, bound=existing.has_interest())
            existing.config = config
            self.host.consumer_changed(self.name, existing, added=False)
            return existing.info_json(now)
        retention.check_consumer(stream, self.consumers[stream_name].values(), config)
        total = sum(len(c) for c in self.consumers.values())
        if 0 < self.limits.max_consumers <= total:
            raise errors.max_consumers()
        if 0 < stream.config.max_consumers <= len(self.consumers[stream_name]):
            raise errors.max_consumers()
        consumer = Consumer(stream, config, now, now)
        self.consumers[stream_name][name] = consumer
        self.track_retention(consumer)
        self.host.consumer_changed(self.name, consumer, added=True)
        return consumer.info_json(now)

    def _consumer(self, stream_name: str, name: str) -> Consumer:
        self._stream(stream_name)
        consumer = self.consumers[stream_name].get(name)
        if consumer is None:
            raise errors.consumer_not_found()
        return consumer

    def _consumer_info(
        self, body: dict[str, Any], now: int, stream: str, name: str
    ) -> dict[str, Any]:
        return self._consumer(stream, name).info_json(now)

    def _consumer_pause(
        self, body: dict[str, Any], now: int, stream: str, name: str
    ) -> dict[str, Any]:
        consumer = self._consumer(stream, name)
        until = 0
        if body.get("pause_until"):
            try:
                until = parse_go_time(body["pause_until"])
            except ValueError as exc:
                raise errors.invalid_json(str(exc)) from None
        self.host.consumer_paused(self.name, consumer, consumer.pause(until, now))
        out: dict[str, Any] = {"paused": consumer.config.paused(now)}
        out["pause_until"] = go_time(until)
        if out["paused"]:
            out["pause_remaining"] = until - now
        return out

    def _consumer_delete(
        self, body: dict[str, Any], now: int, stream: str, name: str
    ) -> dict[str, Any]:
        self._remove_consumer(self._consumer(stream, name))
        return {"success": True}

    def _remove_consumer(self, consumer: Consumer) -> None:
        stream = consumer.stream
        self.consumers[stream.name].pop(consumer.name, None)
        self.host.consumer_removed(self.name, consumer)
        # what only this consumer still wanted goes now (interest / work-queue streams)
        retention.retire_all(stream, self.consumers[stream.name].values())

    def _consumer_names(self, body: dict[str, Any], now: int, stream: str) -> dict[str, Any]:
        self._stream(stream)
        names = sorted(self.consumers[stream])
        offset = page_offset(body)
        page = names[offset : offset + _NAMES_LIMIT]
        return {"total": len(names), "offset": offset, "limit": _NAMES_LIMIT, "consumers": page}

    def _consumer_list(self, body: dict[str, Any], now: int, stream: str) -> dict[str, Any]:
        self._stream(stream)
        found = self.consumers[stream]
        offset = page_offset(body)
        names = sorted(found)[offset : offset + _LIST_LIMIT]
        page = [found[n].info_json(now, full_metadata=False) for n in names]
        total = len(found)
        return {"total": total, "offset": offset, "limit": _LIST_LIMIT, "consumers": page}


_Handler = Callable[..., dict[str, Any]]

# (tokens after $JS.API, response kind, handler, number of name tokens taken as arguments)
_ROUTES: list[tuple[tuple[str, ...], str, _Handler, int, int]] = [
    (("INFO",), "account_info_response", JsAccount._info, 0, 0),
    (("STREAM", "CREATE"), "stream_create_response", JsAccount._stream_create, 1, 1),
    (("STREAM", "UPDATE"), "stream_update_response", JsAccount._stream_update, 1, 1),
    (("STREAM", "INFO"), "stream_info_response", JsAccount._stream_info, 1, 1),
    (("STREAM", "DELETE"), "stream_delete_response", JsAccount._stream_delete, 1, 1),
    (("STREAM", "NAMES"), "stream_names_response", JsAccount._stream_names, 0, 0),
    (("STREAM", "LIST"), "stream_list_response", JsAccount._stream_list, 0, 0),
    (("STREAM", "PURGE"), "stream_purge_response", JsAccount._stream_purge, 1, 1),
    (("STREAM", "MSG", "GET"), "stream_msg_get_response", JsAccount._msg_get, 1, 1),
    (("STREAM", "MSG", "DELETE"), "stream_msg_delete_response", JsAccount._msg_delete, 1, 1),
    (
        ("CONSUMER", "DURABLE", "CREATE"),
        "consumer_create_response",
        JsAccount._consumer_create,
        2,
        2,
    ),
    (("CONSUMER", "CREATE"), "consumer_create_response", JsAccount._consumer_create, 1, 99),
    (("CONSUMER", "INFO"), "consumer_info_response", JsAccount._consumer_info, 2, 2),
    (("CONSUMER", "DELETE"), "consumer_delete_response", JsAccount._consumer_delete, 2, 2),
    (("CONSUMER", "PAUSE"), "consumer_pause_response", JsAccount._consumer_pause, 2, 2),
    (("CONSUMER", "UNPIN"), "consumer_unpin_response", no_priority_groups, 2, 2),
    (("STREAM", "SNAPSHOT"), "stream_snapshot_response", no_snapshots, 1, 1),
    (("STREAM", "RESTORE"), "stream_restore_response", no_snapshots, 1, 1),
    (
        ("STREAM", "LEADER", "STEPDOWN"),
        "stream_leader_stepdown_response",
        not_clustered,
        1,
        1,
    ),
    (("STREAM", "PEER", "REMOVE"), "stream_remove_peer_response", not_clustered, 1, 1),
    (
        ("CONSUMER", "LEADER", "STEPDOWN"),
        "consumer_leader_stepdown_response",
        not_clustered,
        2,
        2,
    ),
    (("CONSUMER", "NAMES"), "consumer_names_response", JsAccount._consumer_names, 1, 1),
    (("CONSUMER", "LIST"), "consumer_list_response", JsAccount._consumer_list, 1, 1),
]

# What the engine subscribes in an enabled account: MSG.NEXT is left to per-consumer
# subscriptions so that a pull on a missing consumer gets "no responders", as on nats-server.
API_SUBJECTS = (
    "$JS.API.INFO",
    "$JS.API.STREAM.>",
    "$JS.API.CONSUMER.CREATE.>",
    "$JS.API.CONSUMER.DURABLE.>",
    "$JS.API.CONSUMER.INFO.>",
    "$JS.API.CONSUMER.DELETE.>",
    "$JS.API.CONSUMER.PAUSE.>",
    "$JS.API.CONSUMER.UNPIN.>",
    "$JS.API.CONSUMER.LEADER.>",
    "$JS.API.CONSUMER.NAMES.>",
    "$JS.API.CONSUMER.LIST.>",
)


def _route(tokens: list[str]) -> tuple[str, _Handler, list[str]] | None:
    for prefix, kind, handler, least, most in _ROUTES:
        if tuple(tokens[: len(prefix)]) == prefix:
            args = tokens[len(prefix) :]
            if least <= len(args) <= most and all(args):
                return kind, handler, args
            return None
    return None


def not_enabled_response(subject: str) -> dict[str, Any] | None:
    """The 503/10039 answer for any API request in an account without JetStream."""
    route = _route(subject.split(".")[2:])
    kind = route[0] if route else "account_info_response"
    return {"type": _TYPE + kind, "error": errors.not_enabled().to_json()}
