"""Auth callout messages: read an authorization request, build the signed (sealed) response.

Pure: no sockets, no clock (`now`/`iat` are parameters). The wire rules are nats-server's
(server/auth_callout.go): the request is an authorization_request JWT signed by a server key
(N...), with `aud` "nats-authorization-request"; when the server is configured with the
service's xkey it seals the JWT (xkv1) and names its own xkey in the `Nats-Server-Xkey` header,
and the response must then be sealed back to that key. The response's `sub` is the request's
`user_nkey` (a fresh key per connection, which stops replays) and its `aud` is the server id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from nscpy import jwt, keys

if TYPE_CHECKING:
    from nscpy.jwt import AuthorizationRequestClaims, ClientTLS, UserPermissionLimits

__all__ = [
    "CALLOUT_SUBJECT",
    "REQUEST_AUDIENCE",
    "XKEY_HEADER",
    "Allow",
    "AuthRequest",
    "CalloutError",
    "Decision",
    "Reject",
    "build_response",
    "issue_user",
    "read_request",
]

CALLOUT_SUBJECT = "$SYS.REQ.USER.AUTH"
REQUEST_AUDIENCE = "nats-authorization-request"
XKEY_HEADER = "Nats-Server-Xkey"


class CalloutError(ValueError):
    """An authorization request that cannot be trusted or read; no response is possible."""


@dataclass(frozen=True)
class AuthRequest:
    """One decoded, verified authorization request: what the authorizer decides on."""

    claims: AuthorizationRequestClaims
    server_xkey: str = ""
    """The server's curve key when the request was sealed (the response is sealed back to it)."""

    @property
    def encrypted(self) -> bool:
        """True when the request arrived sealed (xkv1)."""
        return bool(self.server_xkey)

    @property
    def user_nkey(self) -> str:
        """The key the issued user JWT must have as subject."""
        return self.claims.user_nkey

    @property
    def server_id(self) -> str:
        """The asking server's id (N...): the response's audience."""
        return self.claims.server_id.id

    @property
    def user(self) -> str:
        """CONNECT `user`."""
        return self.claims.connect_opts.user

    @property
    def password(self) -> str:
        """CONNECT `pass`."""
        return self.claims.connect_opts.password

    @property
    def token(self) -> str:
        """CONNECT `auth_token`."""
        return self.claims.connect_opts.auth_token

    @property
    def nkey(self) -> str:
        """CONNECT `nkey` (a plain nkey client; its `sig` signed the nonce)."""
        return self.claims.connect_opts.nkey

    @property
    def client_jwt(self) -> str:
        """CONNECT `jwt` (operator mode: the sentinel or bearer JWT the client presented)."""
        return self.claims.connect_opts.jwt

    @property
    def tls(self) -> ClientTLS | None:
        """The client's TLS state, when it connected over TLS."""
        return self.claims.client_tls

    def client_certificate_pem(self) -> str | None:
        """The client's leaf certificate (PEM) under mTLS, from the verified chain if any."""
        tls = self.claims.client_tls
        if tls is None:
            return None
        if tls.verified_chains and tls.verified_chains[0]:
            return tls.verified_chains[0][0]
        return tls.certs[0] if tls.certs else None

    def client_certificate_subject(self) -> str | None:
        """The leaf certificate's subject as an RFC 4514 string ("CN=alice,O=Example")."""
        pem = self.client_certificate_pem()
        if pem is None:
            return None
        try:
            from cryptography import x509
        except ImportError:  # pragma: no cover - depends on the environment
            raise CalloutError(
                "reading a client certificate subject needs the 'cryptography' package"
            ) from None
        return x509.load_pem_x509_certificate(pem.encode()).subject.rfc4514_string()


@dataclass
class Allow:
    """Admit the client into `account` with these permissions and limits."""

    account: str
    """Config mode: the account name. Operator mode: the account public key (or a known name)."""
    limits: UserPermissionLimits | None = None
    """Permissions and limits; None: unlimited, no permission lists (the account defaults)."""
    expires: int = 0
    """Unix seconds at which the user JWT (and the connection) expires; 0: never."""
    name: str = ""
    tags: list[str] = field(default_factory=list)


@dataclass
class Reject:
    """Refuse the client; `reason` goes into the response (the server logs it)."""

    reason: str


Decision = Allow | Reject


def read_request(
    payload: bytes,
    headers: dict[str, str] | None,
    *,
    xkey: keys.CurveKeyPair | None,
    now: int,
) -> AuthRequest:
    """Open (when sealed), decode and check a request message; raises CalloutError."""
    server_xkey = (headers or {}).get(XKEY_HEADER, "")
    if server_xkey:
        if xkey is None:
            raise CalloutError("the request is encrypted but this service has no xkey")
        try:
            payload = xkey.open(payload, server_xkey)
        except (keys.NKeyError, ValueError) as exc:
            raise CalloutError(f"cannot decrypt the request: {exc}") from None
    elif xkey is not None:
        raise CalloutError("this service has an xkey but the request is not encrypted")
    try:
        claims = jwt.decode_kind(payload.decode("ascii"), jwt.AuthorizationRequestClaims)
    except jwt.WrongKind as exc:
        raise CalloutError(f"expected an authorization_request JWT, got {exc.actual}") from None
    except (jwt.JWTError, UnicodeDecodeError) as exc:
        raise CalloutError(f"the request is not a valid JWT: {exc}") from None
    if claims.audience != REQUEST_AUDIENCE:
        raise CalloutError(f"request audience is {claims.audience!r}, not {REQUEST_AUDIENCE!r}")
    if claims.server_id.id != claims.issuer:
        raise CalloutError("request is not signed by the server it names")
    results = jwt.ValidationResults()
    claims.validate(results, now=now)
    if results.is_blocking(include_time_checks=True):
        raise CalloutError(f"invalid request: {'; '.join(results.errors())}")
    return AuthRequest(claims, server_xkey)


def issue_user(
    request: AuthRequest,
    allow: Allow,
    signer: keys.KeyPair,
    *,
    account_key: str | None,
    iat: int,
    scoped: bool = False,
) -> str:
    """The user JWT for an Allow, signed by the target account's key or signing key.

    Operator mode passes `account_key` (the target account's identity key): nats-server places
    the user by `issuer_account` (or the issuer). Config mode passes None: the server places the
    user by the JWT's `aud`, the account name, and refuses `issuer_account` there. A `scoped`
    signer's users carry no permissions or limits of their own (the scope's template applies),
    so an Allow with limits cannot be issued by one.
    """
    user = jwt.UserClaims.new(request.user_nkey)
    if scoped:
        if allow.limits is not None:
            raise CalloutError("a scoped signing key issues users without limits of their own")
        user.set_scoped()
    elif allow.limits is not None:
        for name in jwt.UserPermissionLimits.__dataclass_fields__:
            setattr(user, name, getattr(allow.limits, name))
    user.name = allow.name or request.user or ""
    user.expires = allow.expires
    user.tags = list(allow.tags)
    if account_key is None:
        user.audience = allow.account
    elif signer.public_key != account_key:
        user.issuer_account = account_key
    return jwt.encode(user, signer, iat=iat)


def build_response(
    request: AuthRequest,
    signer: keys.KeyPair,
    *,
    user_jwt: str = "",
    error: str = "",
    issuer_account: str = "",
    xkey: keys.CurveKeyPair | None,
    iat: int,
) -> bytes:
    """The authorization_response JWT for a request (sealed when the request was)."""
    response = jwt.AuthorizationResponseClaims.new(request.user_nkey)
    response.audience = request.server_id
    response.jwt = user_jwt
    response.error = error
    if issuer_account and issuer_account != signer.public_key:
        response.issuer_account = issuer_account
    token = jwt.encode(response, signer, iat=iat).encode("ascii")
    if request.encrypted:
        assert xkey is not None  # read_request refused a sealed request without one
        return xkey.seal(token, request.server_xkey)
    return token
