"""The HTTP account-server API that nsc pushes to and nats-server's URL resolver reads.

An operator whose account server URL is `http(s)://HOST:PORT/jwt/v1` is served as:
- `GET  …/jwt/v1/operator`            the operator JWT
- `GET  …/jwt/v1/accounts/<pubkey>`   an account JWT (nats-server: `resolver: URL(…/accounts/)`)
- `POST …/jwt/v1/accounts/<pubkey>`   store a newer account JWT (what `push` sends)
- `GET|POST …/jwt/v1/activations/<hash>` activation tokens

URLs are joined as nsc joins them (path.Join: `<base>/accounts/<pubkey>`). Only the standard
library is used (urllib), so `push` to an account server needs nothing nats-py brings.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

HTTP_SCHEMES = ("http", "https")


def is_account_server_url(url: str) -> bool:
    """True for an http(s):// account server URL (nsc's IsAccountServerURL)."""
    return url.strip().lower().startswith(("http://", "https://"))


def _join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def account_url(base: str, account: str) -> str:
    """`<base>/accounts/<account>`."""
    return _join(base, "accounts", account)


def operator_url(base: str) -> str:
    """`<base>/operator`."""
    return _join(base, "operator")


@dataclass(frozen=True)
class HttpAnswer:
    """An account server's answer: the status and the body as text."""

    url: str
    status: int
    text: str

    @property
    def ok(self) -> bool:
        """2xx: stored (200) or accepted for later (nsc: 201-299 is "pending")."""
        return 200 <= self.status < 300

    def describe(self) -> str:
        """One line for a report."""
        body = self.text.strip().replace("\n", " ")
        return f"{self.url} answered {self.status}" + (f": {body[:200]}" if body else "")


class AccountServerError(OSError):
    """The account server could not be reached."""


def _context(ca_file: str | None) -> ssl.SSLContext | None:
    return ssl.create_default_context(cafile=ca_file) if ca_file else None


def _request(
    url: str, data: bytes | None, timeout: float, ca_file: str | None, content_type: str = ""
) -> HttpAnswer:
    import urllib.error
    import urllib.request

    headers = {"Content-Type": content_type} if content_type else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=_context(ca_file)) as resp:
            return HttpAnswer(url, resp.status, resp.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as exc:
        return HttpAnswer(url, exc.code, exc.read().decode("utf-8", "replace"))
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise AccountServerError(f"account server {url} cannot be reached: {reason}") from None


def post_jwt(
    url: str, token: str, *, timeout: float = 5.0, ca_file: str | None = None
) -> HttpAnswer:
    """POST a JWT as nsc does (Content-Type application/jwt)."""
    return _request(url, token.strip().encode(), timeout, ca_file, "application/jwt")


def get_jwt(url: str, *, timeout: float = 5.0, ca_file: str | None = None) -> HttpAnswer:
    """GET a JWT."""
    return _request(url, None, timeout, ca_file)
