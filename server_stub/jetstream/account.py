"""One account's JetStream: its streams and consumers, limits, usage and API counters.

The `$JS.API` handlers (`stream_api`, `consumer_api`, routed by `api`) read and change a
JsAccount; everything that touches disk or the bus goes through the `Host` the engine
provides, so this module stays free of I/O.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from server_stub.jetstream import advisories, errors, retention
from server_stub.jetstream.config import JsLimits
from server_stub.jetstream.consumer import Consumer, Outgoing
from server_stub.jetstream.memstore import MemStore
from server_stub.jetstream.stream import API_LEVEL, PublishResult, Stream, StreamConfig

log = logging.getLogger("server_stub.jetstream")


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

    def advise(self, account: str, event: advisories.Event) -> None:
        """Publish a `$JS.EVENT` advisory in `account` when a subscription there wants it."""
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

    def info_json(self) -> dict[str, Any]:
        """The account info body (`$JS.API.INFO`, without `type`)."""
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

    # -- lookups -------------------------------------------------------------------------
    def find_stream(self, name: str) -> Stream:
        """The stream called `name`, or the API's "stream not found"."""
        stream = self.streams.get(name)
        if stream is None:
            raise errors.stream_not_found()
        return stream

    def find_consumer(self, stream_name: str, name: str) -> Consumer:
        """The consumer `name` of a stream, or the API's "stream / consumer not found"."""
        self.find_stream(stream_name)
        consumer = self.consumers[stream_name].get(name)
        if consumer is None:
            raise errors.consumer_not_found()
        return consumer

    # -- messages ------------------------------------------------------------------------
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

    # -- consumers -----------------------------------------------------------------------
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

    def remove_consumer(self, consumer: Consumer) -> None:
        """Delete a consumer (API, stream deletion, inactivity) and what only it still held."""
        stream = consumer.stream
        self.consumers[stream.name].pop(consumer.name, None)
        self.host.consumer_removed(self.name, consumer)
        self.host.advise(
            self.name, advisories.consumer_action(stream.name, consumer.name, "DELETED")
        )
        # what only this consumer still wanted goes now (interest / work-queue streams)
        retention.retire_all(stream, self.consumers[stream.name].values())
