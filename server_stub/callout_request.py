"""Auth callout requests as nats-server builds them (processClientOrLeafCallout): pure.

The request is an authorization_request JWT signed by the server key: `sub` the callout issuer
(config mode) or account, `aud` "nats-authorization-request", `exp` now + the auth timeout, the
server's id block (its xkey only when encrypting), a fresh user key, what the server knows of
the client (its raw auth user, name, the presented JWT's name and tags, the nonce when it
signed) and its CONNECT options; under TLS the version, cipher and the verified chain (or the
bare peer certificates). Sealed to the configured xkey, with the server's own xkey in the
`Nats-Server-Xkey` header.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nscpy import jwt, keys
from server_stub.auth import ConnectionInfo

if TYPE_CHECKING:
    from server_stub.callout import CalloutNeeded

CALLOUT_SUBJECT = "$SYS.REQ.USER.AUTH"
REQUEST_AUDIENCE = "nats-authorization-request"
XKEY_HEADER = "Nats-Server-Xkey"


@dataclass
class ServerSide:
    """What the request needs from the server: its keys and identity."""

    key: keys.KeyPair
    xkey: keys.CurveKeyPair
    name: str
    host: str
    version: str
    auth_timeout: float
    config_accounts: set[str] = field(default_factory=set)


def tls_info(ssl_object: Any, ca_file: Any) -> jwt.ClientTLS:
    """ClientTLS from an ssl object: Go's version and cipher names, the chain as PEM."""
    tls = jwt.ClientTLS()
    version = ssl_object.version() or ""
    tls.version = version.removeprefix("TLSv")  # Go's tlsVersion: "1.3"
    cipher = ssl_object.cipher()
    tls.cipher = cipher[0] if cipher else ""
    leaf = ssl_object.getpeercert(binary_form=True)
    if leaf is None:
        return tls
    pems = [ssl.DER_cert_to_PEM_cert(leaf)]
    verified = ssl_object.context.verify_mode == ssl.CERT_REQUIRED
    if verified:
        pems += _issuers(leaf, ca_file)
        tls.verified_chains = [[_go_pem(p) for p in pems]]
    else:
        tls.certs = [_go_pem(pems[0])]
    return tls


def _go_pem(pem: str) -> str:
    # Go's pem.Encode: 64-column base64 and a trailing newline, as Python writes it
    return pem if pem.endswith("\n") else pem + "\n"


def _issuers(leaf_der: bytes, ca_file: Any) -> list[str]:
    """The CA certificates from ca_file that complete the leaf's chain (Go's VerifiedChains)."""
    if ca_file is None:
        return []
    try:
        from cryptography import x509
    except ImportError:  # without it the chain holds the leaf alone
        return []
    current = x509.load_der_x509_certificate(leaf_der)
    cas = x509.load_pem_x509_certificates(open(ca_file, "rb").read())
    chain: list[str] = []
    while current.issuer != current.subject:
        parent = next((c for c in cas if c.subject == current.issuer), None)
        if parent is None:
            break
        from cryptography.hazmat.primitives.serialization import Encoding

        chain.append(parent.public_bytes(Encoding.PEM).decode())
        current = parent
    return chain


def build_request(
    need: CalloutNeeded,
    server: ServerSide,
    options: dict[str, Any],
    info: ConnectionInfo,
    *,
    cid: int,
    user_nkey: str,
    tls: jwt.ClientTLS | None,
) -> tuple[bytes, dict[str, str] | None]:
    """The request payload (sealed when an xkey is set) and its headers."""
    claims = jwt.AuthorizationRequestClaims.new(need.issuer)
    claims.audience = REQUEST_AUDIENCE
    claims.user_nkey = user_nkey
    sid = claims.server_id
    sid.name, sid.host, sid.id, sid.version = (
        server.name,
        server.host,
        server.key.public_key,
        server.version,
    )
    if need.xkey:
        sid.xkey = server.xkey.public_key
    now = int(info.now)
    claims.expires = int(info.now + server.auth_timeout)

    def opt(key: str) -> str:
        value = options.get(key)
        return value if isinstance(value, str) else ""

    ci = claims.client_info
    ci.host, ci.id, ci.user, ci.name = info.host, cid, need.auth_user, opt("name")
    ci.name_tag, ci.kind, ci.type = need.name_tag, "Client", "nats"
    ci.tags = list(need.tags)
    co = claims.connect_opts
    co.jwt, co.nkey, co.sig, co.auth_token = opt("jwt"), opt("nkey"), opt("sig"), opt("auth_token")
    co.user, co.password, co.name = opt("user"), opt("pass"), opt("name")
    co.lang, co.version = opt("lang"), opt("version")
    proto = options.get("protocol", 0)
    co.protocol = proto if isinstance(proto, int) and not isinstance(proto, bool) else 0
    if co.sig and info.nonce:
        ci.nonce = info.nonce
    claims.client_tls = tls
    token = jwt.encode(claims, server.key, iat=now).encode("ascii")
    if not need.xkey:
        return token, None
    return server.xkey.seal(token, need.xkey), {XKEY_HEADER: server.xkey.public_key}
