"""`nscpy account-server`: serve an operator's JWTs over the HTTP API of nats-server's URL
resolver (`resolver: URL(http://HOST:PORT/jwt/v1/accounts/)`) and of `nsc push`.

Theory of operation: JWTs live in a directory as `<public key>.jwt` (the operator JWT as
`operator.jwt`, activations under `activations/<hash>.jwt`), files 0600 written atomically.
`AccountServer.handle()` is pure request logic -- method, path and body in, status and body out
-- so tests drive it without sockets; `serve()` puts the standard library's threading HTTP
server around it. A POSTed account JWT is stored only if it verifies, is issued by the operator
(its identity or a signing key) and is not older than the stored one -- what nats-server itself
would accept. After storing, the optional notifier tells running servers: nats-server's URL
resolver only fetches an account it does not know, and learns of updates (a revocation) from
`$SYS.REQ.ACCOUNT.<key>.CLAIMS.UPDATE`, which the notifier publishes as a system user.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nscpy.jwt import (
    JWTError,
    WrongKind,
    decode,
    decode_account,
    decode_activation,
    decode_operator,
)

log = logging.getLogger("nscpy.accountserver")

PREFIX = "/jwt/v1"
_KEY = re.compile(r"^A[A-Z2-7]{55}$")
_HASH = re.compile(r"^[A-Z2-7]{52}$")


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status, body and its content type."""

    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


def _text(status: int, message: str) -> Answer:
    return Answer(status, message + "\n")


class AccountServer:
    """The API over a JWT directory; thread-safe (one lock around each write)."""

    def __init__(
        self,
        directory: Path,
        operator_jwt: str,
        notify: Callable[[str, str], str] | None = None,
    ) -> None:
        self.operator = decode_operator(operator_jwt.strip())
        self.directory = directory
        self.notify = notify
        self._lock = threading.Lock()
        from nscpy.store.atomic import atomic_write

        self._write = atomic_write
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        (directory / "activations").mkdir(mode=0o700, exist_ok=True)
        self._write(directory / "operator.jwt", operator_jwt.strip() + "\n")

    # -- reads -------------------------------------------------------------------------------
    def _read(self, path: Path) -> Answer:
        try:
            return Answer(200, path.read_text("utf-8").strip(), "application/jwt")
        except FileNotFoundError:
            return _text(404, "not found")

    def handle(self, method: str, path: str, body: bytes = b"") -> Answer:
        """Answer one request."""
        path = path.split("?", 1)[0]
        if not path.startswith(PREFIX + "/"):
            return _text(404, f"not found: the API is under {PREFIX}/")
        parts = [p for p in path[len(PREFIX) :].split("/") if p]
        if method == "GET" and parts == ["operator"]:
            return self._read(self.directory / "operator.jwt")
        if method == "GET" and parts == ["help"]:
            return _text(200, f"GET|POST {PREFIX}/accounts/<key>, GET {PREFIX}/operator")
        if method == "GET" and parts == ["accounts"]:
            # nats-server's URL resolver GETs the bare prefix at start-up and needs a 200
            stored = sorted(p.stem for p in self.directory.glob("A*.jwt"))
            return _text(200, "\n".join(stored))
        if len(parts) == 2 and parts[0] == "accounts":
            if not _KEY.match(parts[1]):
                return _text(400, f"{parts[1]!r} is not an account public key")
            if method == "GET":
                return self._read(self.directory / f"{parts[1]}.jwt")
            if method == "POST":
                return self._store_account(parts[1], body)
        if len(parts) == 2 and parts[0] == "activations" and _HASH.match(parts[1]):
            if method == "GET":
                return self._read(self.directory / "activations" / f"{parts[1]}.jwt")
        if parts == ["activations"] and method == "POST":
            return self._store_activation(body)
        if method not in ("GET", "POST"):
            return _text(405, f"method {method} not allowed")
        return _text(404, "not found")

    # -- writes ------------------------------------------------------------------------------
    def _store_account(self, key: str, body: bytes) -> Answer:
        token = body.decode("utf-8", "replace").strip()
        try:
            claims = decode_account(token)
        except WrongKind:
            return _text(400, f"the JWT is not the account JWT of {key}")
        except JWTError as exc:
            return _text(400, f"bad JWT: {exc}")
        if claims.subject != key:
            return _text(400, f"the JWT is not the account JWT of {key}")
        if not self.operator.did_sign(claims):
            return _text(400, f"the account is not issued by operator {self.operator.subject}")
        path = self.directory / f"{key}.jwt"
        with self._lock:
            if path.exists():
                old = decode(path.read_text("utf-8").strip())
                if old.issued_at > claims.issued_at:
                    return _text(409, "a newer JWT for this account is already stored")
            self._write(path, token + "\n")
        log.info("stored account %s (%s)", claims.name, key)
        note = self.notify(key, token) if self.notify is not None else ""
        return _text(200, f"stored account {key}" + (f"; {note}" if note else ""))

    def _store_activation(self, body: bytes) -> Answer:
        token = body.decode("utf-8", "replace").strip()
        try:
            claims = decode_activation(token)
        except WrongKind:
            return _text(400, "not an activation JWT")
        except JWTError as exc:
            return _text(400, f"bad JWT: {exc}")
        with self._lock:
            self._write(self.directory / "activations" / f"{claims.hash_id()}.jwt", token + "\n")
        return _text(200, claims.hash_id())


def serve(server: AccountServer, host: str, port: int, ready: Callable[[int], None]) -> None:
    """Run the HTTP server until interrupted; `ready(port)` once it listens."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        server_version = "nscpy-account-server"

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > 1 << 20:
                answer = _text(413, "a JWT is at most 1 MiB")
            else:
                body = self.rfile.read(length) if length else b""
                answer = server.handle(method, self.path, body)
            data = answer.body.encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - the standard library's spelling
            self._answer("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._answer("POST")

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log.info("%s %s", self.address_string(), format % args)

    httpd = ThreadingHTTPServer((host, port), Handler)
    ready(httpd.server_address[1])
    try:
        httpd.serve_forever()
    finally:
        httpd.server_close()


def nats_notifier(
    urls: list[str], creds_text: str, timeout: float = 1.0
) -> Callable[[str, str], str]:
    """A notify(key, jwt) that publishes the update to running servers as a system user."""
    from nscpy import resolver
    from nscpy.jwt.creds import parse_decorated_jwt, parse_decorated_seed

    token, seed = parse_decorated_jwt(creds_text).strip(), parse_decorated_seed(creds_text)
    opts = resolver.options_from_env(urls, token, seed, name="nscpy_account_server")

    def notify(key: str, jwt: str) -> str:
        try:
            report = resolver.push_accounts(opts, {key: jwt}, timeout, per_account_subject=True)
        except (resolver.ResolverError, OSError) as exc:
            log.warning("could not notify servers of %s: %s", key, exc)
            return f"servers not notified: {exc}"
        replies = [r for push in report.accounts for r in push.replies]
        return f"{len(replies)} server(s) notified"

    return notify
