"""The JetStream engine: hosts accounts' streams on the server's in-process message bus.

The engine owns every side effect: segment and meta files under `store_dir`, subscriptions on
the bus (both kept by its base, `hosting.StreamHost`), the periodic tick (redelivery, request
expiry, max_age) and group commit, which live here with the lifecycle. A publish is
appended to the stream's log at once, but its ack is held until the next `flush()` has fsynced
the log, so an acknowledged message is always on stable storage; with an asyncio loop the flush
runs via `call_soon`, batching every publish that arrived in the same loop iteration. With a
`sync_interval` (nats-server's option) the ack goes out from the page cache instead and the
tick fsyncs every store once per interval, trading the last interval's acks for speed.

Failures stay local. A write or fsync that fails answers the publishes it concerns with
nats-server's 503 / 10077 instead of an ack; a failed background write (limits, consumer
state, the log index) is logged once and retried by the next tick. A stream whose files cannot
be read back is offline: its API calls answer 500 / 10194 with the reason, STREAM.LIST names it
under `offline`, STREAM.DELETE discards it, and the rest of the account is served as usual.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import operator
import time
from collections.abc import Callable
from typing import Any

from server_stub.bus import BusMessage, MessageBus
from server_stub.headers import parse_headers
from server_stub.jetstream import api, errors
from server_stub.jetstream.account import JsAccount
from server_stub.jetstream.config import JetStreamConfig, JsLimits
from server_stub.jetstream.filestore import DEFAULT_BLOCK_SIZE
from server_stub.jetstream.hosting import Clock, StreamHost
from server_stub.jetstream.stream import PublishResult, Stream, ack_prefix
from server_stub.jetstream.wire import go_json

__all__ = ["Clock", "JetStream"]

log = logging.getLogger("server_stub.jetstream")

# the parts of a held ack (account, stream, seq, reply, body) publish_replies takes
_ACCOUNT = operator.itemgetter(0)
_REPLY_AND_BODY = operator.itemgetter(3, 4)


class JetStream(StreamHost):
    """JetStream for every enabled account of one server."""

    def __init__(
        self,
        config: JetStreamConfig,
        bus: MessageBus,
        account_limits: Callable[[str], JsLimits | None],
        clock: Clock = time.time_ns,
        *,
        loop: asyncio.AbstractEventLoop | None = None,
        tick_interval: float = 0.05,
        block_size: int = DEFAULT_BLOCK_SIZE,
    ) -> None:
        super().__init__(config, bus, clock, loop, block_size)
        self._account_limits = account_limits
        self._tick_interval = tick_interval
        self._api_subs: dict[str, list[int]] = {}
        # held acks: account, stream, seq, reply, body
        self._acks: list[tuple[str, str, int, str, bytes]] = []
        # stream -> its account, written to since the last write_out (keyed by the object: no
        # tuple per publish; any API call writes out first, so a deleted stream is not here)
        self._holding: dict[Stream, str] = {}
        # (account, stream) -> a failed write-out and the seqs it took back: acks refused
        self._unwritten: dict[tuple[str, str], tuple[errors.StoreWriteFailed, set[int]]] = {}
        self._ack_prefixes: dict[str, bytes] = {}  # stream name -> an ack's bytes before seq
        self._fresh: dict[Stream, str] = {}  # stream -> account: new messages since the flush
        self._flush_scheduled = False
        self._timer: asyncio.TimerHandle | None = None
        self._synced_at = time.monotonic()  # the last periodic fsync (with sync_interval)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Recover the accounts found under store_dir that are enabled, and start the tick."""
        if self._loop is None:
            try:
                self._loop = asyncio.get_running_loop()
            except RuntimeError:
                self._loop = None  # no loop: flush inline, the owner calls tick()
        self._running = True
        root = self._root()
        if root.is_dir():
            for directory in sorted(p for p in root.iterdir() if p.is_dir()):
                if directory.name not in self.accounts:
                    limits = self._account_limits(directory.name)
                    if limits is not None:
                        self.enable_account(directory.name, limits)
        self._schedule_tick()

    def stop(self) -> None:
        """Flush, save consumer state, close every store and drop all subscriptions."""
        self._running = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._wake is not None:
            self._wake[1].cancel()
            self._wake = None
        self.flush()
        for name in list(self.accounts):
            self._close_account(name)
        for sids in self._api_subs.values():
            for sid in sids:
                self._bus.unsubscribe(sid)
        self._api_subs.clear()

    def close(self) -> None:
        """The name server_stub's Server calls on shutdown: same as stop()."""
        self.stop()

    def enable_account(self, account: str, limits: JsLimits | None) -> None:
        """Serve JetStream in `account` with `limits` (None: answer "not enabled")."""
        if limits is None:
            self.disable_account(account)
            return
        current = self.accounts.get(account)
        if current is not None:
            current.limits = limits
            return
        self._unsubscribe_api(account)
        js_account = JsAccount(account, limits, self, domain=self.config.domain)
        self.accounts[account] = js_account
        self._api_subs[account] = [
            self._bus.subscribe(account, each, self._on_api)
            for subject in api.API_SUBJECTS
            for each in self._api_names(subject)
        ]
        try:
            self._recover(js_account)
        except Exception:  # a bug in recovery must not take the account's JetStream down
            log.exception("JetStream account %s: recovery failed", account)

    def disable_account(self, account: str) -> None:
        """Stop serving `account` (its files stay) and answer its API with 503 / 10039."""
        self._close_account(account)
        self._unsubscribe_api(account)
        self._api_subs[account] = [
            self._bus.subscribe(account, each, self._on_disabled)
            for each in self._api_names("$JS.API.>")
        ]

    # -- time ----------------------------------------------------------------------------
    def tick(self, now: int | None = None) -> None:
        """Expire messages and pull requests, redeliver unacked messages, save consumers."""
        self.write_out()  # what is read next must be on disk (or taken back)
        now = self._clock() if now is None else now
        interval = self.config.sync_interval
        if interval is not None and time.monotonic() - self._synced_at >= interval:
            for (account_name, stream_name), exc in self.sync().items():
                log.error("JetStream cannot sync stream '%s > %s': %s",
                          account_name, stream_name, exc.description)  # fmt: skip
        for account in list(self.accounts.values()):
            for stream in account.streams.values():
                what = f"limits of stream '{account.name} > {stream.name}'"
                with self._background(what):
                    stream.enforce_limits(now)
                with self._background(f"index of stream '{account.name} > {stream.name}'"):
                    stream.store.checkpoint()
            for consumers in account.consumers.values():
                for consumer in list(consumers.values()):
                    self._send(account.name, consumer.tick(now))
                    self._wake_for(consumer, now)
                    if consumer.is_inactive(now):
                        account.remove_consumer(consumer)
                    elif consumer.dirty:
                        what = f"state of consumer {consumer.name} of '{account.name}'"
                        with self._background(what):
                            self._save_consumer_state(account.name, consumer, sync=False)

    def _schedule_tick(self) -> None:
        if self._loop is not None and self._running:
            self._timer = self._loop.call_later(self._tick_interval, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        try:
            self.tick()
        finally:
            self._schedule_tick()

    def sync(self) -> dict[tuple[str, str], errors.StoreWriteFailed]:
        """fsync every store written since the last sync; the failures by (account, stream)."""
        failed: dict[tuple[str, str], errors.StoreWriteFailed] = {}
        for account in self.accounts.values():
            for stream in account.streams.values():
                try:
                    stream.store.sync()
                except errors.StoreWriteFailed as exc:
                    failed[(account.name, stream.name)] = exc
        self._synced_at = time.monotonic()
        return failed

    def write_out(self) -> None:
        """Write what the stores hold since the last call, one write(2) per store. A store
        that fails takes those messages back; flush() refuses their acks."""
        holding, self._holding = self._holding, {}
        for stream, account_name in holding.items():
            key = (account_name, stream.name)
            try:
                stream.store.write_out()
            except errors.StoreWriteFailed as exc:
                log.error("JetStream failed to store a msg: %s", exc.description)
                # taken back out of the store, or (a read-only store) kept until restart
                stream.forget(tuple(s for s in exc.unwritten if stream.store.get(s) is None))
                earlier = self._unwritten.get(key)
                seqs = set(exc.unwritten) | (earlier[1] if earlier else set())
                self._unwritten[key] = (exc, seqs)

    def flush(self) -> None:
        """Send the held acks: after writing out and fsyncing every store written since the last
        flush, or, with a sync_interval, once written (to the page cache; tick() fsyncs)."""
        self._flush_scheduled = False
        self.write_out()
        failed = self.sync() if self.config.sync_interval is None else {}
        unwritten, self._unwritten = self._unwritten, {}
        acks, self._acks = self._acks, []
        publish = self._bus.publish
        if not failed and not unwritten:  # all is written (and synced): every ack goes
            self._send_acks(acks)
            acks = []
        for account_name, stream_name, seq, reply, body in acks:
            error = failed.get((account_name, stream_name))
            taken_back = unwritten.get((account_name, stream_name))
            if error is None and taken_back is not None and seq in taken_back[1]:
                error = taken_back[0]
            if error is not None:  # not on stable storage: never acknowledged
                refusal = {"error": error.to_json(), "stream": stream_name, "seq": 0}
                body = go_json(refusal).encode()
            publish(account_name, reply, body)
        fresh, self._fresh = self._fresh, {}
        now = self._clock()
        for account_name, stream_name in sorted({(a, s.name) for s, a in fresh.items()}):
            owner = self.accounts.get(account_name)
            if owner is None:
                continue
            for consumer in list(owner.consumers.get(stream_name, {}).values()):
                self._send(account_name, consumer.on_new_messages(now))

    def _send_acks(self, acks: list[tuple[str, str, int, str, bytes]]) -> None:
        """Send acks, in order, each account's consecutive ones together (publish_replies)."""
        replies = self._bus.publish_replies
        for account_name, run in itertools.groupby(acks, _ACCOUNT):
            replies(account_name, list(map(_REPLY_AND_BODY, run)))

    # -- bus handlers --------------------------------------------------------------------
    def _on_api(self, msg: BusMessage) -> None:
        account = self.accounts.get(msg.account)
        if account is None:
            return
        self.write_out()  # the API reads and changes what earlier publishes stored
        subject = self._local(msg.subject)
        if self._offline.owns(msg.account, subject):
            response = self._offline.answer(msg.account, subject)
        else:
            response = api.handle(account, subject, msg.payload, self._clock())
            offline = self._offline.listed(msg.account)
            listing = subject == "$JS.API.STREAM.LIST"
            if offline and listing and response and "error" not in response:
                response["offline"] = offline  # as nats-server lists streams it cannot serve
        if response is not None:
            body = go_json(response).encode()
            # a request without a reply is carried out and audited all the same, answering no
            # one, as nats-server's sendAPIResponse does
            if msg.reply:
                self._bus.publish(msg.account, msg.reply, body)
            self.audit(msg.account, subject, msg.payload, body)

    def _on_disabled(self, msg: BusMessage) -> None:
        subject = self._local(msg.subject)
        body = go_json(api.not_enabled_response(subject)).encode()
        if msg.reply:
            self._bus.publish(msg.account, msg.reply, body)
        self.audit(msg.account, subject, msg.payload, body)

    def _on_publish(
        self,
        stream: Stream,
        account_name: str,
        subject: str,
        reply: str | None,
        headers: bytes | None,
        payload: bytes,
    ) -> None:
        account = self.accounts.get(account_name)
        if account is None:
            return
        hdrs = parse_headers(headers) if headers is not None else None
        try:
            result = account.publish(stream, subject, hdrs, payload, self._clock())
        except errors.StoreWriteFailed as exc:  # a write after the append (Stream handles that)
            log.error("JetStream failed to store a msg: %s", exc.description)
            refusal = {"error": exc.to_json(), "stream": stream.name, "seq": 0}
            result = PublishResult(refusal)
        if stream.config.no_ack:
            reply = None  # no_ack: never answered
        stored = result.stored
        if stored is None:
            if reply and result.ack.get("duplicate"):  # its original may still be held
                body = self._encode_ack(result.ack)
                self._acks.append((account_name, stream.name, result.ack["seq"], reply, body))
                self._schedule_flush()
            elif reply:
                self._bus.publish(account_name, reply, self._encode_ack(result.ack))
            return
        for item in result.republish:
            self._bus.publish(account_name, item.subject, item.data, headers=item.headers)
        if reply:
            prefix = self._ack_prefixes.get(stream.name)
            if prefix is None:
                prefix = self._ack_prefixes[stream.name] = ack_prefix(
                    stream.name, self.config.domain
                )
            body = b"%s%d}" % (prefix, stored.seq)  # == self._encode_ack(result.ack), cheaper
            self._acks.append((account_name, stream.name, stored.seq, reply, body))
        self._holding[stream] = account_name
        self._fresh[stream] = account_name
        if not self._flush_scheduled:
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        """Flush once this loop iteration's publishes are in (at once without a loop)."""
        if self._loop is None:
            self.flush()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self.flush)

    def _encode_ack(self, ack: dict[str, Any]) -> bytes:
        if self.config.domain and "error" not in ack:  # nats-server names its domain in acks
            ack = {"stream": ack["stream"], "domain": self.config.domain} | ack
        return go_json(ack).encode()

    def _unsubscribe_api(self, account: str) -> None:
        for sid in self._api_subs.pop(account, []):
            self._bus.unsubscribe(sid)
