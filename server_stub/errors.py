"""server_stub's error tree, and the exact -ERR texts nats-server 2.15 sends."""

from __future__ import annotations

from nscpy.errors import NscError, NscValueError

# -ERR texts, byte for byte as nats-server sends them (observed against 2.15.1).
UNKNOWN_PROTOCOL = "Unknown Protocol Operation"
MAX_CONTROL_LINE = "maximum control line exceeded"
MAX_PAYLOAD = "Maximum Payload Violation"
INVALID_SUBJECT = "Invalid Subject"
INVALID_PUBLISH_SUBJECT = "Invalid Publish Subject"
AUTH_VIOLATION = "Authorization Violation"
AUTH_TIMEOUT = "Authentication Timeout"
AUTH_EXPIRED = "User Authentication Expired"
AUTH_REVOKED = "User Authentication Revoked"
ACCOUNT_EXPIRED = "Account Authentication Expired"  # account exp passed, or account deleted
STALE_CONNECTION = "Stale Connection"
MAX_CONNECTIONS = "maximum connections exceeded"
MAX_SUBSCRIPTIONS = "maximum subscriptions exceeded"
NO_RESPONDERS_NEEDS_HEADERS = "no responders requires headers support"
SECURE_CONNECTION_REQUIRED = "Secure Connection - TLS Required"


def pub_violation(subject: str) -> str:
    """The -ERR text for a publish the user's permissions refuse."""
    return f"Permissions Violation for Publish to {go_quote(subject)}"


def sub_violation(subject: str, queue: str | None = None) -> str:
    """The -ERR text for a subscription the user's permissions refuse."""
    if queue:
        return (
            f"Permissions Violation for Subscription to {go_quote(subject)}"
            f" using queue {go_quote(queue)}"
        )
    return f"Permissions Violation for Subscription to {go_quote(subject)}"


def go_quote(text: str) -> str:
    """Quote like Go's %q for the printable ASCII subjects NATS uses."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif " " <= ch <= "~":
            out.append(ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class StubError(NscError):
    """Base class of server_stub errors."""


class ProtocolError(StubError, ValueError):
    """The client broke the protocol; `err` is the -ERR text to send (None: close silently).

    `pub_subject` is set when a PUB/HPUB's payload was malformed: nats-server had already
    checked that PUB's subject (pedantic clients hear "Invalid Publish Subject" first).
    """

    def __init__(
        self, message: str, err: str | None = UNKNOWN_PROTOCOL, *, pub_subject: str | None = None
    ) -> None:
        super().__init__(message)
        self.err = err
        self.pub_subject = pub_subject


class ConfigError(StubError, NscValueError):
    """The server configuration file is malformed or names something unsupported."""


class AuthError(StubError):
    """A client failed authentication; `err` is the -ERR text (usually Authorization Violation)."""

    def __init__(self, reason: str, err: str = AUTH_VIOLATION) -> None:
        super().__init__(reason)
        self.reason = reason
        self.err = err
