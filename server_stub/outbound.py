"""The write path of a client connection: queue, flush once per read, write deadline, close.

Theory of operation. Outgoing bytes are collected per connection and written once per loop
iteration, so a burst of deliveries costs one write call: while a client's input is handled
(`server.reading`), the clients it delivered to wait in `server.dirty` and are flushed once at
the end of that read, or, when other connections' reads wait in the same loop turn, once after
them all (inbound.flush_dirty: sixteen requesters' reads make one write to their replier).

Slow consumers get nats-server's policy: a client whose unsent bytes pass max_pending, or whose
socket has not taken a batch handed to it within write_deadline, is logged ("Slow Consumer
Detected: ..."), counted (server and account), and dropped at once: what the kernel already holds
is delivered, the rest is discarded, and no -ERR is sent (it would sit behind the backlog).

Closing half-closes first and lingers for the peer (see `close`), so a client reads the -ERR
that preceded it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from nscpy.values import format_go_duration
from server_stub.encoding import encode_err

if TYPE_CHECKING:
    from server_stub.router import Account
    from server_stub.server import Server
    from server_stub.session import Session

log = logging.getLogger("server_stub")

# How long a closing connection waits for its peer to close before closing anyway.
_LINGER_SECONDS = 1.0


class Outbound:
    """A connection's outgoing bytes; the base of Client, which adds the input side."""

    # set by Client
    cid: int
    host: str
    port: int
    session: Session
    account: Account | None

    def __init__(self, server: Server) -> None:
        self.server = server
        # (asked once: asyncio.get_running_loop() makes a getpid system call each time)
        self._loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._out: list[bytes] = []
        self._out_size = 0
        self._flush_pending = False
        self._upgrading = False  # a TLS upgrade is under way: hold the bytes until it ends
        # write_deadline bookkeeping: bytes handed to the transport so far, and for the oldest
        # batch still in its buffer: where it ends in that count, its chunks and bytes
        self._written = 0
        self._batch: tuple[int, int, int] = (0, 0, 0)
        self._write_timer: asyncio.TimerHandle | None = None
        self._max_pending = server.options.max_pending
        self._buffered = 0  # the transport's write buffer size at the last flush (see _queue)

    def _cleanup(self) -> None:
        """Forget the connection's registrations (Client does that)."""
        raise NotImplementedError

    def _queue(self, data: bytes) -> None:
        if self.closed:
            return
        self._out.append(data)
        self._out_size += len(data)
        limit = self._max_pending
        # The transport's buffer only shrinks between our flushes, so its size at the last
        # flush bounds it: ask the transport only when that bound passes the limit.
        if self._out_size + self._buffered > limit:
            transport = self.transport
            assert transport is not None
            self._buffered = transport.get_write_buffer_size()
            if self._out_size + self._buffered > limit:
                self._slow_consumer(f"MaxPending of {limit} Exceeded", counted=True)
                return
        if not self._flush_pending:
            self._flush_pending = True
            if self.server.reading:
                self.server.dirty.append(self)
            else:
                self._loop.call_soon(self._flush)

    def pending_bytes(self) -> int:
        """Bytes queued for this client and not yet taken by the socket (/connz)."""
        transport = self.transport
        buffered = 0
        if transport is not None and not transport.is_closing():
            buffered = transport.get_write_buffer_size()
        return self._out_size + buffered

    def _flush(self) -> None:
        self._flush_pending = False
        if self.closed or self._upgrading or not self._out or self.transport is None:
            return
        chunks = len(self._out)
        data = b"".join(self._out) if chunks > 1 else self._out[0]
        self._out.clear()
        self._out_size = 0
        self.transport.write(data)
        self._written += len(data)
        self._buffered = buffered = self.transport.get_write_buffer_size()
        if buffered and self._write_timer is None:
            self._arm_write_deadline(chunks, buffered)

    def _arm_write_deadline(self, chunks: int, buffered: int) -> None:
        # Like nats-server's SetWriteDeadline around each flush: the bytes the socket could not
        # take now must all be gone within write_deadline, or the client is a slow consumer.
        if buffered:
            self._batch = (self._written, chunks, buffered)
            loop = asyncio.get_running_loop()
            delay = self.server.options.write_deadline
            self._write_timer = loop.call_later(delay, self._check_write_deadline)

    def _check_write_deadline(self) -> None:
        self._write_timer = None
        transport = self.transport
        if transport is None:
            return
        end, chunks, size = self._batch
        if self._written - transport.get_write_buffer_size() >= end:
            # that batch went out; time the newer bytes now
            self._arm_write_deadline(1, transport.get_write_buffer_size())
            return
        if self.closed:  # closed but its last bytes are stuck: do not linger for ever
            transport.abort()
            return
        deadline = format_go_duration(round(self.server.options.write_deadline * 1e9))
        self._slow_consumer(
            f"WriteDeadline of {deadline} exceeded with {chunks} chunks of {size} total bytes.",
            # nats-server does not count one that never sent CONNECT
            counted=self.session.connected,
        )

    def _cancel_write_deadline(self) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None

    def _slow_consumer(self, reason: str, *, counted: bool) -> None:
        """Drop the client now, unflushed bytes and all, and report it as nats-server does."""
        log.warning(
            "%s:%d - cid:%d - Slow Consumer Detected: %s", self.host, self.port, self.cid, reason
        )
        if counted:
            self.server.slow_consumers += 1
            if self.account is not None:
                self.account.slow_consumers += 1
        self._out.clear()
        self._out_size = 0
        self.closed = True
        if self.transport is not None:
            self.transport.abort()
        self._cleanup()

    def send_err(self, text: str) -> None:
        """Send -ERR and keep the connection open (permission errors)."""
        self._queue(encode_err(text))

    def fail(self, text: str) -> None:
        """Send -ERR and close."""
        if self.closed or self.transport is None:
            return
        self._out.append(encode_err(text))
        if not self._upgrading:
            self._flush()
        self.close()

    def close(self) -> None:
        """Close after writing what is already queued."""
        if self.closed:
            return
        if self._out and not self._upgrading:
            self._flush()
        self.closed = True
        transport = self.transport
        if transport is not None:
            if not self._upgrading and transport.can_write_eof():
                # Half-close first and close fully once the peer has closed (or after a short
                # linger): closing a socket with unread input (a client's CONNECT still in
                # flight) makes the kernel send RST, and the client then loses the -ERR it had
                # not read yet. data_received ignores anything that arrives meanwhile.
                try:
                    transport.write_eof()
                except OSError:  # the peer is already gone (ENOTCONN): nothing to linger for
                    transport.close()
                else:
                    asyncio.get_running_loop().call_later(_LINGER_SECONDS, transport.close)
            else:
                transport.close()
        self._cleanup()
