"""A small synchronous client for one JetStream KV bucket (nats-py underneath; the connection
and its loop thread are nscpy.store.kvconnection).

Every write carries headers saying who made it (``Nscpy-Editor``) and which change it belongs to
(``Nscpy-Change``), and a ``Nats-Msg-Id``, so a write retried after a lost acknowledgement is
recognised by the server instead of being applied twice. Single-key reads go to the stream
leader, so a process reads what was last acknowledged; listings are one batched direct get,
which any current replica may answer.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from nscpy.store.errors import StoreError
from nscpy.store.kvconnection import KvConflict, KvConnection, KvUnavailable, default_editor
from nscpy.store.kvkeys import KvStoreSpec, contains_seed

__all__ = ["KvClient", "KvConflict", "KvEntry", "KvUnavailable", "default_editor"]

EDITOR_HEADER = "Nscpy-Editor"
CHANGE_HEADER = "Nscpy-Change"
_OP_HEADER = "KV-Operation"
_WRONG_LAST_SEQUENCE = (10071, 10164)  # JSStreamWrongLastSequence(Constant)Err
MAX_BATCH = 1000  # nats-server's default limit of messages in one atomic batch


class KvEntry(NamedTuple):
    """One revision of one key."""

    key: str
    value: bytes
    revision: int
    time: datetime.datetime | None
    editor: str
    change: str
    operation: str  # PUT, DEL or PURGE


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


class KvClient(KvConnection):
    """Synchronous get/put/keys/history/watch on one bucket."""

    def __init__(self, spec: KvStoreSpec, **options: Any) -> None:
        super().__init__(spec, **options)
        self._atomic: bool | None = None
        self._written = 0  # the stream sequence of this client's last acknowledged write
        # listings by pattern, with the stream's last sequence they were made at: one command
        # lists the same users several times (name checks), and a listing is the dearest read;
        # reused only while the stream's last sequence is unchanged (one small request)
        self._listings: dict[str, tuple[int, list[str]]] = {}
        self.stream = f"KV_{spec.bucket}"
        self.prefix = f"$KV.{spec.bucket}."

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
            self._written = max(self._written, int(ack.seq))
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
                    self._written = max(self._written, int(answer.get("seq") or 0))
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
        """Keys matching a subject-style pattern (`*` one token, `>` the rest), not deleted,
        as of the stream leader's last sequence when called."""

        async def go() -> list[str]:
            last, subjects = await self._stream_state(pattern)
            if not subjects:  # no key ever written here (the leader says)
                return []
            cached = self._listings.get(pattern)
            if cached is not None and cached[0] == last:  # nothing written since: reuse
                return list(cached[1])
            entries = await self._last_per_key(pattern, last)
            if entries is None:  # too many for one answer, or a lagging replica answered
                entries = await self._scan(pattern, history=False, headers_only=True)
            found = sorted(e.key for e in entries if e.operation == "PUT")
            self._listings[pattern] = (last, found)
            return list(found)

        return self._run(go, f"listing {pattern!r}")

    async def _stream_state(self, pattern: str) -> tuple[int, int]:
        """From the stream leader: its last sequence, and how many subjects (keys, deleted
        ones included) match pattern; (0, 0) when there is no bucket yet."""
        from nats.js.errors import NotFoundError

        js = await self._connected()
        try:
            info = await js.stream_info(self.stream, subjects_filter=self.prefix + pattern)
        except NotFoundError:
            return 0, 0
        return int(info.state.last_seq or 0), len(info.state.subjects or {})

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

    async def _last_per_key(self, pattern: str, at_least: int) -> list[KvEntry] | None:
        """The last entry of every key matching pattern in one direct-get request (no
        consumer: creating one is a cluster-wide operation, far dearer than this); None when
        the server says the answer is too large, or when the replica that answered had not
        yet applied sequence `at_least` (the leader's last when the listing began) or this
        client's last write: then the caller reads through a consumer on the leader."""
        import asyncio
        import json

        await self._connected()
        at_least = max(at_least, self._written)
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
                if status == "404":  # nothing matches -- on a replica that has our last write?
                    upto = headers.get("Nats-UpTo-Sequence")  # (2.15 leaves it out here)
                    fresh = upto is not None and int(upto or 0) >= at_least
                    return [] if fresh or not at_least else None
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
                    seen = int(headers.get("Nats-UpTo-Sequence", "0") or 0)
                    if seen < at_least:  # a replica behind the leader: ask the leader's copy
                        return None
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
