"""Run the stub (in-process or as `python -m server_stub`) and the real nats-server side by side."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.natsserver import stop

ROOT = Path(__file__).resolve().parents[2]
NATS_SERVER = ROOT / ".venv" / "bin" / "nats-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(coro, timeout: float = 30.0):
    """asyncio.run with an upper bound, so a hung scenario fails instead of stalling CI."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def _wait_info(port: int, deadline: float, proc: subprocess.Popen[bytes] | None = None) -> bool:
    """True once the port answers with INFO; False if `proc` exited first."""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                if s.recv(5) == b"INFO ":
                    return True
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"no INFO on port {port}")


@contextlib.contextmanager
def real_server(conf: Path) -> Iterator[str]:
    """nats-server -c conf on a free loopback port; yields its URL.

    A port taken by another process between free_port and nats-server's bind is retried."""
    for attempt in range(3):
        port = free_port()
        proc = subprocess.Popen(
            [str(NATS_SERVER), "-c", str(conf), "-a", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # a config's relative paths (resolver dir, operator file) land beside it
            cwd=conf.parent,
        )
        assert proc.stderr is not None
        try:
            if _wait_info(port, time.monotonic() + 10, proc):
                yield f"nats://127.0.0.1:{port}"
                return
            err = proc.stderr.read().decode(errors="replace")
            if "address already in use" not in err or attempt == 2:
                raise RuntimeError(f"nats-server exited at start: {err[-600:]}")
        finally:
            stop(proc)
            proc.stderr.close()


@contextlib.contextmanager
def stub_server(conf: Path | None = None, *extra: str) -> Iterator[str]:
    """python -m server_stub [-c conf] -p 0; yields the URL it prints on its first line.

    Run in the config's directory, as real_server runs nats-server, so relative paths in it
    (resolved against the working directory by both) stay beside the config."""
    args = [sys.executable, "-m", "server_stub", "-p", "0", *extra]
    if conf is not None:
        args += ["-c", str(conf)]
    cwd = None if conf is None else conf.parent
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("nats://"):
            err = proc.stderr.read() if proc.stderr else ""
            raise RuntimeError(f"server_stub did not start: {line!r} {err}")
        yield line
    finally:
        stop(proc)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@contextlib.contextmanager
def server(kind: str, conf: Path | None) -> Iterator[str]:
    """Either server by name: "nats-server" or "stub"."""
    if kind == "nats-server":
        if conf is None:
            conf = Path(__file__).parent / "empty.conf"
        with real_server(conf) as url:
            yield url
    else:
        with stub_server(conf) as url:
            yield url


async def raw_session(
    url: str, chunks: list[bytes], quiet: float = 0.15, *, ping: bool = True
) -> bytes:
    """Send chunks then a PING; return what follows the first INFO line, up to EOF or quiet time.

    "<EOF>" marks a closed connection. Reading stops once the server has been silent for `quiet`
    seconds after answering the final PING (or after 3 s at most). ping=False sends no PING of
    its own: for a session the server is expected to close, where a PING still unread when it
    closes would make the close a reset that can discard the -ERR before it is read.
    """
    host, port = url.removeprefix("nats://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    info = await reader.readline()
    assert info.startswith(b"INFO ")
    out = b""
    try:
        out = await _send_and_read(
            reader, writer, chunks, out, quiet, 3.0, pong_after=out, ping=ping
        )
    except ConnectionError:
        out += b"<EOF>"
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return out


def raw_sessions(kind: str, cases: dict[str, list[bytes]]) -> dict[str, bytes]:
    """One raw_session per case on a fresh server of that kind (no config): name -> output."""
    with server(kind, None) as url:
        return {name: run(raw_session(url, chunks)) for name, chunks in cases.items()}


async def _send_and_read(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    chunks: list[bytes],
    out: bytes,
    quiet: float,
    max_wait: float,
    *,
    pong_after: bytes,
    ping: bool = True,
) -> bytes:
    """Send chunks and a PING (unless ping=False), then read until EOF or a reset ("<EOF>"
    appended), or until the server has been silent for `quiet` seconds with a PONG received
    beyond `pong_after`, or `max_wait`. What was read before a reset is kept."""
    loop = asyncio.get_running_loop()
    try:
        for chunk in [*chunks, b"PING\r\n"] if ping else chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0.01)
        deadline = loop.time() + max_wait
        while loop.time() < deadline:
            try:
                data = await asyncio.wait_for(reader.read(65536), quiet)
            except asyncio.TimeoutError:
                if b"PONG\r\n" in out[len(pong_after) :] and quiet < max_wait:
                    break
                continue
            if not data:
                return out + b"<EOF>"
            out += data
    except ConnectionError:
        return out + b"<EOF>"
    return out


def _strip_info(data: bytes) -> bytes:
    """Drop INFO lines: they carry ids and ports that differ between servers."""
    return b"".join(
        line for line in data.splitlines(keepends=True) if not line.startswith(b"INFO ")
    )


async def jwt_session(
    url: str,
    user_jwt: str | None,
    seed_signer,
    chunks: list[bytes],
    *,
    sig: str = "std",
    connect: dict | None = None,
    quiet: float = 0.15,
    max_wait: float = 3.0,
) -> bytes:
    """CONNECT with a user JWT and a nonce signature, send chunks and a PING; INFO lines removed.

    sig: "std" (padded base64, as nats-py), "url" (RawURL), "bad" (signs another text), "none".
    """
    import base64
    import json

    host, port = url.removeprefix("nats://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    info = json.loads((await reader.readline())[5:])
    fields: dict = {"verbose": False, "protocol": 1, "headers": True}
    if user_jwt is not None:
        fields["jwt"] = user_jwt
    nonce = info.get("nonce", "")
    if sig != "none" and seed_signer is not None:
        raw = seed_signer.sign((nonce if sig != "bad" else "x" + nonce).encode())
        if sig == "url":
            fields["sig"] = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        else:
            fields["sig"] = base64.b64encode(raw).decode()
    fields.update(connect or {})
    out = b""
    try:
        # CONNECT and PING in one write: a refused client has nothing unread at the server,
        # so the close is a FIN (not a RST that would discard the -ERR before we read it)
        writer.write(b"CONNECT " + json.dumps(fields).encode() + b"\r\nPING\r\n")
        while b"PONG\r\n" not in out:
            data = await asyncio.wait_for(reader.read(65536), max_wait)
            if not data:
                return _strip_info(out + b"<EOF>")
            out += data
        out = await _send_and_read(reader, writer, chunks, out, quiet, max_wait, pong_after=b"")
    except ConnectionError:
        out += b"<EOF>"
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    return _strip_info(out)
