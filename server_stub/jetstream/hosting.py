"""The engine's side of the accounts: subscriptions, files and consumer traffic.

`StreamHost` implements the `Host` protocol a JsAccount calls when the API creates, updates or
deletes a stream or consumer: it (re)subscribes the stream's subjects and the consumer's
pull, ack and flow control subjects on the bus, and saves or removes their files. It recovers
an account's streams and consumers from disk, and answers the consumer traffic on those
subscriptions (pulls, acks, flow control, direct gets) by sending what the Consumer returns.
The engine (`engine.JetStream`) adds the lifecycle, the tick and the publish path.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from server_stub.bus import BusMessage, MessageBus
from server_stub.jetstream import advisories, errors
from server_stub.jetstream.account import JsAccount
from server_stub.jetstream.config import JetStreamConfig
from server_stub.jetstream.consumer import (
    Consumer,
    ConsumerConfig,
    Outgoing,
    PullRequestError,
    parse_pull_request,
    status,
)
from server_stub.jetstream.consumerstate import restore, state_json
from server_stub.jetstream.crypto import master_key
from server_stub.jetstream.directget import direct_get
from server_stub.jetstream.memstore import MemStore
from server_stub.jetstream.offline import OfflineStreams
from server_stub.jetstream.storage import StreamFiles
from server_stub.jetstream.stream import Stream, StreamConfig
from server_stub.jetstream.wire import go_json

Clock = Callable[[], int]
log = logging.getLogger("server_stub.jetstream")


class StreamHost(abc.ABC):
    """Subscriptions and files of every enabled account's streams and consumers."""

    def __init__(
        self,
        config: JetStreamConfig,
        bus: MessageBus,
        clock: Clock,
        loop: asyncio.AbstractEventLoop | None,
        block_size: int,
    ) -> None:
        self.config = config
        self._bus = bus
        self._clock = clock
        self._loop = loop
        self._running = False
        # optional bus extension: deliver to an inbox while showing the stream subject
        self._deliver_as = getattr(bus, "deliver_as", None)
        master = master_key(config.key) if config.cipher and config.key else None
        self._files = StreamFiles(self._root(), config.cipher, master, block_size)
        self.accounts: dict[str, JsAccount] = {}
        self._stream_subs: dict[tuple[str, str], list[int]] = {}
        self._consumer_subs: dict[tuple[str, str, str], list[int]] = {}
        self._offline = OfflineStreams(self._files)  # found on disk, could not be recovered
        self._failing: set[str] = set()  # background writes failing now (logged once each)
        self._wake: tuple[int, asyncio.TimerHandle] | None = None  # (deadline, timer)
        self._event_ids = advisories.Nuid()

    @abc.abstractmethod
    def tick(self, now: int | None = None) -> None:
        """Expire, redeliver and save what is due (the engine's periodic work)."""

    @abc.abstractmethod
    def write_out(self) -> None:
        """Write what the stores hold: consumers read only written messages."""

    @abc.abstractmethod
    def _on_publish(
        self,
        stream: Stream,
        account_name: str,
        subject: str,
        reply: str | None,
        headers: bytes | None,
        payload: bytes,
    ) -> None:
        """A message on a stream's subjects, as a raw bus handler gets it (bus.RawHandler,
        `stream` bound first): store it, ack it (the engine's publish path)."""

    @contextlib.contextmanager
    def _background(self, what: str) -> Iterator[None]:
        """Log a failed background write once (not every tick) and carry on; it is retried."""
        try:
            yield
        except errors.StoreWriteFailed as exc:
            if what not in self._failing:
                self._failing.add(what)
                log.error("JetStream cannot save the %s: %s", what, exc.description)
        else:
            if what in self._failing:
                self._failing.discard(what)
                log.info("JetStream saved the %s again", what)

    # -- the API's names: $JS.API and, with a domain, $JS.<domain>.API ------------------
    def _api_names(self, subject: str) -> list[str]:
        domain = self.config.domain
        if not domain:
            return [subject]
        return [subject, f"$JS.{domain}.API.{subject.removeprefix('$JS.API.')}"]

    def _local(self, subject: str) -> str:
        prefix = f"$JS.{self.config.domain}.API."
        if self.config.domain and subject.startswith(prefix):
            return "$JS.API." + subject[len(prefix) :]
        return subject

    # -- consumer traffic ------------------------------------------------------------------
    def _on_direct_get(self, msg: BusMessage) -> None:
        """`$JS.API.DIRECT.GET.<stream>[.<subject>]`: the messages themselves, or a status."""
        self.write_out()
        account = self.accounts.get(msg.account)
        tokens = self._local(msg.subject).split(".", 5)
        stream = account.streams.get(tokens[4]) if account else None
        if stream is None or not msg.reply:
            return
        tail = tokens[5] if len(tokens) > 5 else ""
        self._send(msg.account, direct_get(stream, msg.reply, tail, msg.payload))

    def _consumer_for(self, msg: BusMessage) -> Consumer | None:
        account = self.accounts.get(msg.account)
        tokens = self._local(msg.subject).split(".")
        # $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>, $JS.ACK.<stream>.<consumer>... and
        # $JS.FC.<stream>.<consumer>.<token>
        stream, name = (tokens[5], tokens[6]) if tokens[1] == "API" else (tokens[2], tokens[3])
        if account is None:
            return None
        return account.consumers.get(stream, {}).get(name)

    def _on_next(self, msg: BusMessage) -> None:
        self.write_out()
        consumer = self._consumer_for(msg)
        if consumer is None or not msg.reply:
            return
        try:
            body = parse_pull_request(msg.payload)
        except PullRequestError as exc:
            self._send(msg.account, [status(msg.reply, 400, f"Bad Request - {exc}")])
            return
        now = self._clock()
        self._send(msg.account, consumer.pull(msg.reply, body, now))
        self._wake_for(consumer, now)

    def _wake_for(self, consumer: Consumer, now: int) -> None:
        """Tick when a waiting pull request expires or is due a heartbeat, not on the next
        periodic tick: clients give up right after the expiry they asked for."""
        deadline = consumer.next_deadline()
        if not deadline or self._loop is None or not self._running:
            return
        if self._wake is not None and self._wake[0] <= deadline:
            return
        if self._wake is not None:
            self._wake[1].cancel()
        delay = max(0.0, (deadline - now) / 1e9) + 0.001
        self._wake = (deadline, self._loop.call_later(delay, self._on_wake))

    def _on_wake(self) -> None:
        self._wake = None
        self.tick()

    def _on_flow_control(self, msg: BusMessage) -> None:
        self.write_out()
        consumer = self._consumer_for(msg)
        if consumer is not None:
            self._send(msg.account, consumer.on_flow_control(msg.subject, self._clock()))

    def _on_ack(self, msg: BusMessage) -> None:
        self.write_out()
        consumer = self._consumer_for(msg)
        if consumer is None:
            return
        now = self._clock()
        out = consumer.on_ack(msg.subject, msg.payload, now)
        verb, _, rest = msg.payload.partition(b" ")
        if verb.strip() == b"+NXT" and msg.reply:
            # ack, then the reply is a pull request for the next message(s)
            try:
                body = parse_pull_request(rest)
            except PullRequestError as exc:
                out.append(status(msg.reply, 400, f"Bad Request - {exc}"))
            else:
                out.extend(consumer.pull(msg.reply, body, now))
                self._wake_for(consumer, now)
        elif msg.reply:  # ack_sync waits for this empty confirmation
            self._bus.publish(msg.account, msg.reply, b"")
        self._send(msg.account, out)

    def _send(self, account: str, out: list[Outgoing]) -> None:
        for item in out:
            if item.subject is not None and self._deliver_as is not None:
                self._deliver_as(
                    account, item.to, item.subject, item.payload, item.reply, item.headers
                )
            else:
                self._bus.publish(
                    account, item.to, item.payload, reply=item.reply, headers=item.headers
                )

    # -- Host: side effects asked for by JsAccount ----------------------------------------
    def open_store(self, account: str, config: StreamConfig, created: int) -> MemStore:
        """A new stream's store; file streams get their directory, key check and meta."""
        if config.storage == "memory":
            return MemStore()
        return self._files.create(account, config, created)

    def stream_changed(self, account: str, stream: Stream, *, added: bool) -> None:
        """(Re)subscribe the stream's subjects and save its config."""
        for sid in self._stream_subs.pop((account, stream.name), []):
            self._bus.unsubscribe(sid)
        subs = [
            # bound to the stream: its subjects overlap no other stream's, so no lookup
            self._bus.subscribe_raw(account, subject, functools.partial(self._on_publish, stream))
            for subject in stream.config.subjects
        ]
        if stream.config.allow_direct:  # without it nats-server leaves DIRECT.GET unanswered
            for direct in self._api_names(f"$JS.API.DIRECT.GET.{stream.name}"):
                subs.append(self._bus.subscribe(account, direct, self._on_direct_get))
                subs.append(self._bus.subscribe(account, direct + ".>", self._on_direct_get))
        self._stream_subs[(account, stream.name)] = subs
        if not added and stream.config.storage == "file":
            self._files.save_stream_meta(account, stream.config, stream.created)

    def server_room(self, storage: str, skip: tuple[str, str]) -> int:
        """What max_memory_store / max_file_store leave to reserve (-1: no limit)."""
        limit = self.config.max_memory_store if storage == "memory" else self.config.max_file_store
        if limit < 0:
            return -1
        reserved = sum(
            max(0, stream.config.max_bytes)
            for account in self.accounts.values()
            for stream in account.streams.values()
            if stream.config.storage == storage and (account.name, stream.name) != skip
        )
        return max(0, limit - reserved)

    def stream_removed(self, account: str, stream: Stream) -> None:
        """Unsubscribe and delete the stream's files."""
        for sid in self._stream_subs.pop((account, stream.name), []):
            self._bus.unsubscribe(sid)
        stream.store.close()
        if stream.config.storage == "file":
            self._files.remove_stream(account, stream.name)

    def consumer_changed(self, account: str, consumer: Consumer, *, added: bool) -> None:
        """Subscribe the consumer's pull and ack subjects (when added); persist a durable."""
        if added:
            self._subscribe_consumer(account, consumer)
        else:  # updated: a push consumer may deliver elsewhere, or more may be allowed now
            self._send(account, consumer.on_new_messages(self._clock()))
        if self._persists(consumer):
            stream = consumer.stream.name
            self._files.save_consumer(
                account, stream, consumer.name, consumer.config.json_for_state(), consumer.created
            )
            self._save_consumer_state(account, consumer, sync=True)

    def consumer_paused(self, account: str, consumer: Consumer, out: list[Outgoing]) -> None:
        """Save a paused or resumed consumer's state and send what resuming delivered."""
        self._save_consumer_state(account, consumer, sync=True)
        self._send(account, out)

    def consumer_removed(self, account: str, consumer: Consumer) -> None:
        """Tell waiting pulls, unsubscribe, and delete a durable consumer's files."""
        self._send(account, consumer.close())
        for sid in self._consumer_subs.pop((account, consumer.stream.name, consumer.name), []):
            self._bus.unsubscribe(sid)
        if self._persists(consumer):
            self._files.remove_consumer(account, consumer.stream.name, consumer.name)

    def advise(self, account: str, event: advisories.Event) -> None:
        """Publish an advisory if a subscription in `account` matches it (a bus that cannot
        tell interest gets none), as nats-server skips events nobody listens to."""
        subject, kind, fields = event
        if not self._listened(account, subject):
            return
        body = advisories.event(
            kind,
            fields,
            event_id=self._event_ids.next(),
            now=self._clock(),
            domain=self.config.domain,
        )
        self._bus.publish(account, subject, go_json(body).encode())

    def audit(self, account: str, subject: str, request: bytes, response: bytes) -> None:
        """The API audit advisory of a `$JS.API` request answered in `account`."""
        if not self._listened(account, advisories.API_SUBJECT):
            return
        requester = getattr(self._bus, "requester", None)
        server = getattr(self._bus, "server_name", "")
        client = requester() if requester is not None else None
        self.advise(account, advisories.api_audit(server, client, subject, request, response))

    def _listened(self, account: str, subject: str) -> bool:
        """True when a subscription in `account` matches (a bus that cannot tell: False)."""
        interest = getattr(self._bus, "has_interest", None)
        return interest is not None and bool(interest(account, subject))

    # -- files ---------------------------------------------------------------------------
    def _root(self) -> Path:
        return self.config.store_dir / "jetstream"

    def _persists(self, consumer: Consumer) -> bool:
        config = consumer.config
        return (
            config.durable and not config.mem_storage and consumer.stream.config.storage == "file"
        )

    def _save_consumer_state(self, account: str, consumer: Consumer, *, sync: bool) -> None:
        if self._persists(consumer):
            state = state_json(consumer)
            self._files.save_consumer_state(
                account, consumer.stream.name, consumer.name, state, sync=sync
            )
        consumer.dirty = False  # only once saved: a failed save is retried on the next tick

    def _recover(self, account: JsAccount) -> None:
        """Serve every stream that can be read back; the others answer "stream is offline"."""
        recovered, offline = self._files.recover(account.name)
        self._offline.recovered(account.name, offline)
        now = self._clock()
        for found in recovered:
            stream = Stream(found.config, found.store, found.created)
            account.streams[stream.name] = stream
            account.consumers[stream.name] = {}
            self.stream_changed(account.name, stream, added=True)
            for saved in found.consumers:
                try:
                    config = ConsumerConfig.from_request(saved.config, saved.name)
                    consumer = Consumer(stream, config, saved.created, now)
                    if saved.state is not None:
                        restore(consumer, saved.state, now)
                except (errors.JetStreamError, ValueError, KeyError, TypeError) as exc:
                    log.error(
                        "JetStream consumer %s of stream '%s > %s' is not served: %s",
                        saved.name,
                        account.name,
                        stream.name,
                        exc,
                    )
                    continue
                account.consumers[stream.name][config.name] = consumer
                account.track_retention(consumer)
                self._subscribe_consumer(account.name, consumer)

    def _subscribe_consumer(self, account: str, consumer: Consumer) -> None:
        """Subscribe the pull, ack and flow control subjects; give it a view of interest."""
        key = (account, consumer.stream.name, consumer.name)
        base = f"{consumer.stream.name}.{consumer.name}"
        self._consumer_subs[key] = [
            *(
                self._bus.subscribe(account, each, self._on_next)
                for each in self._api_names(f"$JS.API.CONSUMER.MSG.NEXT.{base}")
            ),
            self._bus.subscribe(account, f"$JS.ACK.{base}.>", self._on_ack),
            self._bus.subscribe(account, f"$JS.FC.{base}.*", self._on_flow_control),
        ]
        consumer.advise = functools.partial(self.advise, account)
        interest = getattr(self._bus, "has_interest", None)
        if interest is not None:  # pull requests to abandoned inboxes and push binding
            consumer.interest = lambda subject: bool(interest(account, subject))

    def _close_account(self, name: str) -> None:
        account = self.accounts.pop(name, None)
        if account is None:
            return
        for stream in account.streams.values():
            for consumer in account.consumers.get(stream.name, {}).values():
                self._send(name, consumer.close())
                with self._background(f"state of consumer {consumer.name} of '{name}'"):
                    self._save_consumer_state(name, consumer, sync=True)
                for sid in self._consumer_subs.pop((name, stream.name, consumer.name), []):
                    self._bus.unsubscribe(sid)
            for sid in self._stream_subs.pop((name, stream.name), []):
                self._bus.unsubscribe(sid)
            stream.store.close()
