"""The connection under nscpy's KV client: one per process, on an event loop in a daemon thread.

Every call hands a coroutine to that loop and waits for it, so callers stay synchronous and
several threads may share one connection. (Opening a connection per operation costs a TCP +
NATS handshake each time -- bench/bench_kvstore.py measures both; one loop thread keeps it open
and lets nats-py fail over between cluster nodes.) Failures that may pass -- a node going away,
a leader election -- are retried for a bounded time, then reported as one KvUnavailable line.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from nscpy.store.errors import StoreError
from nscpy.store.kvkeys import KvStoreSpec

if TYPE_CHECKING:
    import asyncio

    from nats.aio.client import Client
    from nats.js import JetStreamContext

__all__ = ["KvConflict", "KvConnection", "KvUnavailable", "default_editor"]

T = TypeVar("T")


class KvUnavailable(StoreError):
    """The store's servers or its JetStream quorum cannot be reached; nothing was changed."""


class KvConflict(StoreError):
    """Someone else wrote the key since we read it (the compare-and-set failed)."""


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


_NATS_IMPORT = threading.Lock()


def import_nats_once() -> None:
    """Import nats-py whole, one thread at a time, before a loop thread may use it.

    The loop threads import nats lazily (CLI start-up). Two threads importing parts of one
    package at once can each wait for the other's module lock; Python breaks that cycle by
    handing one of them a half-made module, seen as "partially initialized module 'nats' has
    no attribute 'errors'" with eight store writers in one process.
    """
    with _NATS_IMPORT:
        import nats
        import nats.js.errors  # noqa: F401


class KvConnection:
    """Where the store is, how to reach it, and the loop thread that does."""

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
                import_nats_once()
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
