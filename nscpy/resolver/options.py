"""How to reach the resolver: server URLs, the user JWT and seed to sign the nonce with, and TLS.

The seed stays in memory: nats-py gets callbacks that hand over the JWT and sign the server's
nonce with `nscpy.keys`, so no creds file is ever written for a temporary user.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from nscpy import keys
from nscpy.errors import NscValueError

if TYPE_CHECKING:
    import ssl

__all__ = ["ConnectOptions", "options_from_env", "RESOLVER_SCHEMES"]

RESOLVER_SCHEMES = ("nats", "tls", "ws", "wss")
"""URL schemes that mean the nats resolver protocol (http(s) is the legacy account server)."""


@dataclass(frozen=True)
class ConnectOptions:
    """Everything needed to open one authenticated connection to a nats-server."""

    servers: list[str]
    user_jwt: str
    user_seed: str = field(repr=False)
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    tls_first: bool = False
    timeout: float = 5.0
    name: str = "nscpy"

    def __post_init__(self) -> None:
        if not self.servers:
            raise NscValueError("at least one server URL is needed, e.g. nats://127.0.0.1:4222")
        for url in self.servers:
            scheme = url.split("://", 1)[0].lower() if "://" in url else ""
            if scheme not in RESOLVER_SCHEMES:
                raise NscValueError(
                    f"server URL must start with nats://, tls://, ws:// or wss://, got {url!r}"
                )
        if not self.user_jwt:
            raise NscValueError("a user JWT is needed to connect to an operator-mode server")
        if (self.cert_file is None) != (self.key_file is None):
            raise NscValueError("a client certificate needs both cert_file and key_file")
        if self.timeout <= 0:
            raise NscValueError(f"connect timeout must be positive, got {self.timeout}")
        # Fail now, before any network work, when the seed is not a user seed.
        kp = keys.KeyPair.from_seed(self.user_seed)
        if kp.prefix is not keys.Prefix.USER:
            raise NscValueError(
                f"the connecting seed must be a user seed (SU...), got {kp.prefix.role}"
            )

    def ssl_context(self) -> ssl.SSLContext | None:
        """A TLS context when a CA, a client cert or a TLS-only scheme asks for one, else None."""
        import ssl

        wants_tls = any(u.lower().startswith(("tls://", "wss://")) for u in self.servers)
        if self.ca_file is None and self.cert_file is None and not wants_tls and not self.tls_first:
            # nats-py still upgrades (with the system CAs) when the server's INFO requires TLS.
            return None
        ctx = ssl.create_default_context(cafile=self.ca_file)
        if self.cert_file is not None and self.key_file is not None:
            ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    def jwt_callback(self) -> Callable[[], bytes]:
        """nats-py's user_jwt_cb: hands over the user JWT."""
        token = self.user_jwt.encode()
        return lambda: token

    def signature_callback(self) -> Callable[[str], bytes]:
        """nats-py's signature_cb: signs the server's nonce, base64 with padding as nats.go does."""
        kp = keys.KeyPair.from_seed(self.user_seed)

        def sign(nonce: str) -> bytes:
            # The server verifies the signature over the nonce's ASCII text, not its decoding.
            return base64.b64encode(kp.sign(nonce.encode()))

        return sign

    def with_user(self, user_jwt: str, user_seed: str) -> ConnectOptions:
        """The same servers and TLS settings with another user."""
        return replace(self, user_jwt=user_jwt, user_seed=user_seed)


def options_from_env(
    servers: list[str],
    user_jwt: str,
    user_seed: str,
    *,
    ca_file: str | None = None,
    cert_file: str | None = None,
    key_file: str | None = None,
    tls_first: bool = False,
    timeout: float = 5.0,
    name: str = "nscpy",
    env: Mapping[str, str] | None = None,
) -> ConnectOptions:
    """ConnectOptions where TLS files not given fall back to NATS_CA, NATS_CERT and NATS_KEY."""
    environ = os.environ if env is None else env
    return ConnectOptions(
        servers=servers,
        user_jwt=user_jwt,
        user_seed=user_seed,
        ca_file=ca_file or environ.get("NATS_CA") or None,
        cert_file=cert_file or environ.get("NATS_CERT") or None,
        key_file=key_file or environ.get("NATS_KEY") or None,
        tls_first=tls_first,
        timeout=timeout,
        name=name,
    )
