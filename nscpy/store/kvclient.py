"""A small synchronous client for one JetStream KV bucket (nats-py underneath).

One connection per process, on an event loop in a daemon thread: every call hands a coroutine
to that loop and waits for it, so callers stay synchronous and several threads may share one
client. (Opening a connection per operation costs a TCP + NATS handshake each time; one loop
thread keeps it open and lets nats-py fail over between cluster nodes.)

Every write carries headers saying who made it (``Nscpy-Editor``) and which change it belongs to
(``Nscpy-Change``), and a ``Nats-Msg-Id``, so a write retried after a lost acknowledgement is
recognised by the server instead of being applied twice. Reads go to the stream leader (not the
direct-get replicas), so a process always reads what was last acknowledged.
"""

from __future__ import annotations

import datetime
import os
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from nscpy.store.errors import StoreError
from nscpy.store.kvkeys import KvStoreSpec, contains_seed

if TYPE_CHECKING:
    import asyncio

    from nats.aio.client import Client
    from nats.js import JetStreamContext

__all__ = ["KvClient", "KvConflict", "KvEntry", "KvUnavailable", "default_editor"]

T = TypeVar("T")

EDITOR_HEADER = "Nscpy-Editor"
CHANGE_HEADER = "Nscpy-Change"
_OP_HEADER = "KV-Operation"
_WRONG_LAST_SEQUENCE = (10071, 10164)  # JSStreamWrongLastSequence(Constant)Err
LISTING_TTL = 1.0  # seconds a listing is reused (see KvClient._listings)
MAX_BATCH = 1000  # nats-server's default limit of messages in one atomic batch


class KvUnavailable(StoreError):
    """The store's servers or its JetStream quorum cannot be reached; nothing was changed."""


class KvConflict(StoreError):
    """Someone else wrote the key since we read it (the compare-and-set failed)."""


class KvEntry(NamedTuple):
    """One revision of one key."""

    key: str
    value: bytes
    revision: int
    time: datetime.datetime | None
    editor: str
    change: str
    operation: str  # PUT, DEL or PURGE


def default_editor(env: dict[str, str] | None = None) -> str:
    """Who is editing: NSCPY_EDITOR, else login@host."""
    import getpass
    import socket

    environ = os.environ if env is None else env
    named = environ.get("NSCPY_EDITOR", "").strip()
    if named:
        return named
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = f"uid{os.getuid()}"
    return f"{login}@{socket.gethostname()}"


def _entry(key: str, msg: Any, seq: int, when: datetime.datetime | None) -> KvEntry:
    headers = msg.headers or {}
    return KvEntry(
        key=key,
        value=bytes(msg.data or b""),
        revision=seq,
        time=when,
        editor=str(headers.get(EDITOR_HEADER, "")),
        change=str(headers.get(CHANGE_HEADER, "")),
        operation=str(headers.get(_OP_HEADER, "PUT")),
    )


def _refuse_seed(key: str, value: bytes) -> None:
    """Plain seeds never go into the bucket, whatever asked for it (defence in depth)."""
    if contains_seed(value):
        raise StoreError(
            f"refusing to write what holds an NKey seed to the KV store (key {key!r}); seeds "
            "stay in the local keystore (share one sealed with 'nscpy store share-key')"
        )


class KvClient:
    """Synchronous get/create/update/delete/keys/history/watch on one bucket."""

    def __init__(
        self,
        spec: KvStoreSpec,
        *,
        creds: str | None = None,
        ca_file: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        tls_first: bool = False,
        timeout: float = 2.0,
        retry_for: float = 30.0,
        editor: str | None = None,
    ) -> None:
        self.spec = spec
        self.creds = creds
        self.ca_file = ca_file
        self.cert_file = cert_file
        self.key_file = key_file
        self.tls_first = tls_first
        self.timeout = timeout
        # a killed leader is replaced within nats-server's election timeouts (seconds, up to
        # ~10 for the meta and the stream leader one after the other): ride through that
        self.retry_for = retry_for
        self.editor = editor or default_editor()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._start_lock = threading.Lock()
        self._atomic: bool | None = None
        # listings, kept for LISTING_TTL seconds and forgotten at this client's next write: one
        # command lists the same users several times (name checks), and listings are the
        # dearest reads. Another writer's key can be missed for that long, no longer than a
        # listing from a lagging replica could miss it; every write is still compare-and-set.
        self._listings: dict[str, tuple[float, list[str]]] = {}
        self.stream = f"KV_{spec.bucket}"
        self.prefix = f"$KV.{spec.bucket}."

    @property
    def where(self) -> str:
        return f"KV store {self.spec.display()}"

    # -- the loop thread ---------------------------------------------------------------------
    def _run(self, make: Callable[[], Coroutine[Any, Any, T]], what: str) -> T:
        import asyncio
        import concurrent.futures

        loop = self._ensure_loop()
        future = asyncio.run_coroutine_threadsafe(self._guard(make, what), loop)
        try:
            # the coroutine has its own timeouts; this bound only catches a wedged loop
            return future.result(timeout=self.timeout * 2 + self.retry_for + 10)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise KvUnavailable(f"{self.where}: {what} did not finish in time") from None

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        import asyncio

        with self._start_lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="nscpy-kv", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _guard(self, make: Callable[[], Coroutine[Any, Any, T]], what: str) -> T:
        """Connect if needed and run; retry what may be a passing failure (a node going away,
        a leader election) until `retry_for` seconds have passed, then raise one KvUnavailable
        line. A retried write is the same message (same Nats-Msg-Id): the server applies it
        at most once."""
        import asyncio
        import time

        from nats.errors import Error as NatsError
        from nats.js.errors import APIError, ServiceUnavailableError

        deadline = time.monotonic() + self.retry_for
        while True:
            try:
                await self._connected()
                return await make()
            except (KvConflict, KvUnavailable, StoreError):
                raise
            except APIError as exc:
                if not (isinstance(exc, ServiceUnavailableError) or exc.code == 503):
                    raise StoreError(
                        f"{self.where}: {what} failed: {exc.description or exc}"
                    ) from None
                reason = "JetStream has no quorum for the bucket"
            except (asyncio.TimeoutError, TimeoutError):
                reason = f"no answer within {self.timeout:g}s (no JetStream quorum or no server)"
            except (NatsError, OSError) as exc:
                reason = str(exc) or type(exc).__name__
            if time.monotonic() >= deadline:
                raise KvUnavailable(
                    f"{self.where}: {what} failed: {reason}; gave up after retrying for "
                    f"{self.retry_for:g}s. Nothing was confirmed: a write not confirmed was not "
                    "applied unless the cluster commits it when it recovers (see 'nscpy log')"
                )
            await asyncio.sleep(0.25)

    async def _connected(self) -> JetStreamContext:
        if self._js is not None and self._nc is not None and not self._nc.is_closed:
            return self._js
        import nats

        kwargs: dict[str, Any] = {}
        ctx = self._ssl_context()
        if ctx is not None:
            kwargs["tls"] = ctx
        if self.creds:
            kwargs["user_credentials"] = self.creds
        servers = list(self.spec.servers)
        failures: list[str] = []
        nc = None
        for i in range(len(servers)):
            errors: list[BaseException] = []

            async def on_error(exc: Exception, sink: list[BaseException] = errors) -> None:
                sink.append(exc)

            try:
                # each server once, in the URL's order, so a wrong URL, CA or creds fails at
                # once (nats-py would retry); the pool keeps every server for reconnects
                nc = await nats.connect(
                    servers=servers[i:] + servers[:i],
                    dont_randomize=True,
                    name="nscpy-store",
                    connect_timeout=max(1, round(self.timeout)),
                    allow_reconnect=False,
                    max_reconnect_attempts=1,
                    reconnect_time_wait=0,
                    tls_handshake_first=self.tls_first,
                    error_cb=on_error,
                    **kwargs,
                )
                break
            except Exception as exc:
                cause = errors[-1] if errors else exc
                failures.append(f"{servers[i]}: {cause or type(cause).__name__}")
        if nc is None:
            raise KvUnavailable(f"cannot reach the {self.where}: {'; '.join(failures)}")
        # nats-py reads these when it loses the server: ride out a restart or an election
        nc.options["allow_reconnect"] = True
        nc.options["max_reconnect_attempts"] = 60
        nc.options["reconnect_time_wait"] = 0.25
        self._nc = nc
        self._js = nc.jetstream(timeout=self.timeout)
        return self._js

    def _ssl_context(self) -> Any:
        import ssl

        wants = any(s.startswith("tls://") for s in self.spec.servers)
        if not (wants or self.ca_file or self.cert_file or self.tls_first):
            return None
        if (self.cert_file is None) != (self.key_file is None):
            raise StoreError("a client certificate needs both --client-cert and --client-key")
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if self.cert_file and self.key_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    def close(self) -> None:
        """Drain the connection and stop the loop thread."""
        if self._loop is None:
            return
        import asyncio

        async def shut() -> None:
            if self._nc is not None and not self._nc.is_closed:
                try:
                    await asyncio.wait_for(self._nc.close(), 2)
                except Exception:  # closing is best effort: the process is leaving
                    pass

        try:
            asyncio.run_coroutine_threadsafe(shut(), self._loop).result(5)
        except Exception:  # noqa: S110 - best effort, see above
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = self._thread = None
        self._nc = self._js = None

    # -- the bucket --------------------------------------------------------------------------
    def ensure_bucket(self) -> None:
        """Create the bucket's stream if it is missing (replicas from the URL, else 3 on a
        cluster and 1 on a single server); an existing bucket is used as it is."""

        async def go() -> None:
            from nats.js import api
            from nats.js.errors import APIError, NotFoundError

            js = await self._connected()
            try:
                await js.stream_info(self.stream)
                return
            except NotFoundError:
                pass
            replicas = self.spec.replicas
            if replicas is None:
                info = self._nc._server_info if self._nc is not None else {}
                replicas = 3 if info.get("cluster") else 1
            config = api.StreamConfig(
                name=self.stream,
                subjects=[f"{self.prefix}>"],
                max_msgs_per_subject=self.spec.history,
                discard=api.DiscardPolicy.NEW,
                deny_delete=True,
                allow_rollup_hdrs=True,
                allow_direct=True,
                allow_atomic=True,  # one change of several keys is one atomic batch (2.12+)
                num_replicas=replicas,
                duplicate_window=120.0,
            )
            try:
                await js.add_stream(config)
            except APIError as exc:
                if "atomic" not in str(exc.description or "").lower():
                    raise
                # a server without atomic batches (server_stub refuses the field): one change
                # of several keys is then written key by key (see put_many)
                config.allow_atomic = None
                await js.add_stream(config)

        self._run(go, "creating the bucket")

    def bucket_exists(self) -> bool:
        async def go() -> bool:
            from nats.js.errors import NotFoundError

            js = await self._connected()
            try:
                await js.stream_info(self.stream)
                return True
            except NotFoundError:
                return False

        return self._run(go, "looking up the bucket")

    # -- keys --------------------------------------------------------------------------------
    def get(self, key: str) -> KvEntry | None:
        """The key's current entry (None if absent or deleted), read from the stream leader."""
        entry = self.latest(key)
        return None if entry is None or entry.operation != "PUT" else entry

    def latest(self, key: str) -> KvEntry | None:
        """The key's last revision, a deletion marker included (None if never written)."""

        async def go() -> KvEntry | None:
            from nats.js.errors import NotFoundError

            js = await self._connected()
            try:
                msg = await js.get_msg(self.stream, subject=self.prefix + key, direct=False)
            except NotFoundError:
                return None
            return _entry(key, msg, int(msg.seq or 0), msg.time)

        return self._run(go, f"reading {key!r}")

    def put(
        self, key: str, value: bytes, *, last: int | None, change: str, operation: str = "PUT"
    ) -> int:
        """Write key if its last revision is `last` (0: absent; None: unconditionally).

        KvConflict when the compare-and-set fails. Returns the new revision.
        """
        _refuse_seed(key, value)
        self._listings.clear()

        async def go() -> int:
            from nats.js.errors import APIError

            js = await self._connected()
            headers = {
                EDITOR_HEADER: self.editor,
                CHANGE_HEADER: change,
                "Nats-Msg-Id": f"{change}:{key}",
            }
            if last is not None:
                headers["Nats-Expected-Last-Subject-Sequence"] = str(last)
            if operation != "PUT":
                headers[_OP_HEADER] = operation
                if operation == "PURGE":
                    headers["Nats-Rollup"] = "sub"
            try:
                ack = await js.publish(self.prefix + key, value, headers=headers)
            except APIError as exc:
                if exc.err_code in _WRONG_LAST_SEQUENCE:
                    raise KvConflict(f"{key!r} changed since it was read") from None
                raise
            return int(ack.seq)

        return self._run(go, f"writing {key!r}")

    def put_many(self, writes: Sequence[tuple[str, bytes | None, int | None]], change: str) -> None:
        """Write several keys as one change: (key, value or None to delete, last revision or
        None). On a bucket that allows atomic batches (nats-server 2.12+, buckets nscpy
        creates) they are one atomic batch: all are stored or none, and one failed
        compare-and-set (KvConflict) refuses them all. Elsewhere they are written in order."""
        if not writes:
            return
        for key, value, _ in writes:
            _refuse_seed(key, value or b"")
        self._listings.clear()
        if len(writes) == 1 or not self._allows_atomic():
            for key, value, last in writes:
                op = "PUT" if value is not None else "DEL"
                self.put(key, value or b"", last=last, change=change, operation=op)
            return
        if len(writes) > MAX_BATCH:
            raise StoreError(
                f"{self.where}: one change of {len(writes)} keys is more than an atomic batch "
                f"holds ({MAX_BATCH}); split it"
            )

        async def go() -> None:
            import json

            await self._connected()
            nc = self._nc
            assert nc is not None
            batch_id = f"{change}-{os.urandom(4).hex()}"
            for n, (key, value, last) in enumerate(writes, 1):
                headers = {
                    EDITOR_HEADER: self.editor,
                    CHANGE_HEADER: change,
                    "Nats-Batch-Id": batch_id,
                    "Nats-Batch-Sequence": str(n),
                }
                if last is not None:
                    headers["Nats-Expected-Last-Subject-Sequence"] = str(last)
                if value is None:
                    headers[_OP_HEADER] = "DEL"
                subject = self.prefix + key
                if n == len(writes):
                    headers["Nats-Batch-Commit"] = "1"
                    reply = await nc.request(
                        subject, value or b"", headers=headers, timeout=self.timeout
                    )
                    answer = json.loads(reply.data or b"{}")
                    error = answer.get("error")
                    if error:
                        if error.get("err_code") in _WRONG_LAST_SEQUENCE:
                            raise KvConflict(f"a key of change {change} changed since it was read")
                        raise StoreError(
                            f"{self.where}: the change was refused: {error.get('description')}"
                        )
                elif n == 1:  # the first is acknowledged: the server has opened the batch
                    await nc.request(subject, value or b"", headers=headers, timeout=self.timeout)
                else:
                    await nc.publish(subject, value or b"", headers=headers)

        self._run(go, f"writing {len(writes)} keys as one change")

    def _allows_atomic(self) -> bool:
        if self._atomic is None:

            async def go() -> bool:
                from nats.js.errors import NotFoundError

                js = await self._connected()
                try:
                    info = await js.stream_info(self.stream)
                except NotFoundError:
                    return False
                return bool(info.config.allow_atomic)

            self._atomic = self._run(go, "looking up the bucket")
        return self._atomic

    def keys(self, pattern: str) -> list[str]:
        """Keys matching a subject-style pattern (`*` one token, `>` the rest), not deleted."""
        import time

        now = time.monotonic()
        cached = self._listings.get(pattern)
        if cached is not None and now - cached[0] < LISTING_TTL:
            return list(cached[1])
        found = self._keys(pattern)
        self._listings[pattern] = (now, found)
        return list(found)

    def _keys(self, pattern: str) -> list[str]:

        async def go() -> list[str]:
            entries = await self._last_per_key(pattern)
            if entries is None:  # too many for one answer: read them through a consumer
                entries = await self._scan(pattern, history=False, headers_only=True)
            return sorted(e.key for e in entries if e.operation == "PUT")

        return self._run(go, f"listing {pattern!r}")

    def history(self, pattern: str) -> list[KvEntry]:
        """Every kept revision of the keys matching pattern, oldest first."""

        async def go() -> list[KvEntry]:
            return await self._scan(pattern, history=True, headers_only=False)

        return self._run(go, f"reading the history of {pattern!r}")

    def entries(self, pattern: str) -> list[KvEntry]:
        """The current entry of every key matching pattern (deleted keys left out)."""

        async def go() -> list[KvEntry]:
            found = await self._scan(pattern, history=False, headers_only=False)
            return [e for e in found if e.operation == "PUT"]

        return self._run(go, f"reading {pattern!r}")

    async def _last_per_key(self, pattern: str) -> list[KvEntry] | None:
        """The last entry of every key matching pattern in one direct-get request (no
        consumer: creating one is a cluster-wide operation, far dearer than this); None when
        the server says the answer is too large. Any current replica may answer, so a listing
        can lag a write acknowledged a moment ago by the replication delay; single-key reads
        and every write go to the leader."""
        import asyncio
        import json

        await self._connected()
        nc = self._nc
        assert nc is not None
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox)
        request = {"multi_last": [self.prefix + pattern], "batch": 1024}
        out: list[KvEntry] = []
        try:
            await nc.publish(
                f"$JS.API.DIRECT.GET.{self.stream}", json.dumps(request).encode(), reply=inbox
            )
            while True:
                msg = await sub.next_msg(timeout=self.timeout)
                headers = msg.headers or {}
                status = headers.get("Status")
                if status == "404":  # nothing matches
                    return []
                if status == "413":  # more keys than one answer may hold
                    return None
                if status in ("503", "408"):
                    # 503: nobody answers direct gets (no bucket, or no quorum); 408: a server
                    # without batch gets (nats-server before 2.11): read through a consumer
                    return await self._scan(pattern, history=False, headers_only=True)
                if status is not None and status != "204":
                    raise StoreError(f"{self.where}: listing {pattern!r}: status {status}")
                if status == "204":  # end of the batch
                    pending = int(headers.get("Nats-Num-Pending", "0") or 0)
                    return out if pending == 0 else None
                subject = headers.get("Nats-Subject", "")
                seq = int(headers.get("Nats-Sequence", "0"))
                out.append(_entry(subject[len(self.prefix) :], msg, seq, None))
        except asyncio.TimeoutError:
            raise TimeoutError from None
        finally:
            await sub.unsubscribe()

    async def _scan(self, pattern: str, *, history: bool, headers_only: bool) -> list[KvEntry]:
        """Deliver what the stream holds for pattern through a pull consumer, then delete it."""
        from nats.js import api
        from nats.js.errors import NotFoundError

        js = await self._connected()
        try:
            info = await js.stream_info(self.stream)
        except NotFoundError:
            return []
        if not info.state.messages:
            return []
        config = api.ConsumerConfig(
            deliver_policy=api.DeliverPolicy.ALL if history else api.DeliverPolicy.LAST_PER_SUBJECT,
            ack_policy=api.AckPolicy.NONE,
            filter_subject=self.prefix + pattern,
            headers_only=headers_only,
            inactive_threshold=30.0,
            mem_storage=True,
            num_replicas=1,
        )
        sub = await js.pull_subscribe_bind(
            consumer=(await js.add_consumer(self.stream, config)).name, stream=self.stream
        )
        out: list[KvEntry] = []
        try:
            pending = (await sub.consumer_info()).num_pending
            while pending:
                msgs = await sub.fetch(min(pending, 256), timeout=self.timeout)
                for msg in msgs:
                    meta = msg.metadata
                    key = msg.subject[len(self.prefix) :]
                    out.append(_entry(key, msg, meta.sequence.stream, meta.timestamp))
                    pending = meta.num_pending
        finally:
            try:
                await js.delete_consumer(self.stream, sub._consumer)
            except Exception:  # noqa: S110 - an ephemeral consumer also expires on its own
                pass
            await sub.unsubscribe()
        return out

    def watch(
        self,
        pattern: str,
        on_entry: Callable[[KvEntry], bool],
        *,
        history: bool = False,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        """Call on_entry for each change to keys matching pattern as it happens (and, with
        history, for every kept revision first) until it returns False."""
        import asyncio

        async def go() -> None:
            from nats.js import api

            js = await self._connected()
            done = asyncio.Event()

            async def deliver(msg: Any) -> None:
                if done.is_set():
                    return
                meta = msg.metadata
                key = msg.subject[len(self.prefix) :]
                if not on_entry(_entry(key, msg, meta.sequence.stream, meta.timestamp)):
                    done.set()

            sub = await js.subscribe(
                self.prefix + pattern,
                stream=self.stream,
                cb=deliver,
                ordered_consumer=True,
                deliver_policy=api.DeliverPolicy.ALL if history else api.DeliverPolicy.NEW,
            )
            if on_ready is not None:
                on_ready()
            try:
                await done.wait()
            finally:
                await sub.unsubscribe()

        loop = self._ensure_loop()
        future = asyncio.run_coroutine_threadsafe(self._guard(go, "watching"), loop)
        try:
            future.result()
        except KeyboardInterrupt:
            future.cancel()
            raise
