"""Auth callout claims: the server's authorization request and the callout's response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from nscpy.jwt._model import (
    Model,
    dec_int,
    dec_model,
    dec_str,
    dec_str_list,
    dec_uint,
    enc_model,
    wire,
)
from nscpy.jwt.claims import Claims, ClaimType, is_key, validate_times
from nscpy.jwt.errors import MalformedToken
from nscpy.jwt.validation import ValidationResults, go_quote
from nscpy.keys import Prefix

__all__ = [
    "ServerID",
    "ClientInformation",
    "ConnectOptions",
    "ClientTLS",
    "AuthorizationRequestClaims",
    "AuthorizationResponseClaims",
]


@dataclass
class ServerID(Model):
    """The server asking: name, host and id always written."""

    name: str = field(default="", metadata=wire(dec=dec_str, omitempty=False))
    host: str = field(default="", metadata=wire(dec=dec_str, omitempty=False))
    id: str = field(default="", metadata=wire(dec=dec_str, omitempty=False))
    version: str = field(default="", metadata=wire(dec=dec_str))
    cluster: str = field(default="", metadata=wire(dec=dec_str))
    tags: list[str] = field(default_factory=list, metadata=wire(dec=dec_str_list, nullable=True))
    xkey: str = field(default="", metadata=wire(dec=dec_str))


@dataclass
class ClientInformation(Model):
    """What the server knows about the connecting client."""

    host: str = field(default="", metadata=wire(dec=dec_str))
    id: int = field(default=0, metadata=wire(dec=dec_uint))
    user: str = field(default="", metadata=wire(dec=dec_str))
    name: str = field(default="", metadata=wire(dec=dec_str))
    tags: list[str] = field(default_factory=list, metadata=wire(dec=dec_str_list, nullable=True))
    name_tag: str = field(default="", metadata=wire(dec=dec_str))
    kind: str = field(default="", metadata=wire(dec=dec_str))
    type: str = field(default="", metadata=wire(dec=dec_str))
    mqtt_id: str = field(default="", metadata=wire(dec=dec_str))
    nonce: str = field(default="", metadata=wire(dec=dec_str))


@dataclass
class ConnectOptions(Model):
    """The client's CONNECT options; protocol is always written."""

    jwt: str = field(default="", metadata=wire(dec=dec_str))
    nkey: str = field(default="", metadata=wire(dec=dec_str))
    sig: str = field(default="", metadata=wire(dec=dec_str))
    auth_token: str = field(default="", metadata=wire(dec=dec_str))
    user: str = field(default="", metadata=wire(dec=dec_str))
    password: str = field(default="", metadata=wire("pass", dec=dec_str))
    name: str = field(default="", metadata=wire(dec=dec_str))
    lang: str = field(default="", metadata=wire(dec=dec_str))
    version: str = field(default="", metadata=wire(dec=dec_str))
    protocol: int = field(default=0, metadata=wire(dec=dec_int, omitempty=False))


def _dec_chains(raw: Any, where: str) -> list[list[str]]:
    if type(raw) is not list:
        raise MalformedToken(f"JSON field {where!r} must be an array of arrays")
    return [[] if item is None else dec_str_list(item, where) for item in raw]


@dataclass
class ClientTLS(Model):
    """The client's TLS state, when it connected over TLS."""

    version: str = field(default="", metadata=wire(dec=dec_str))
    cipher: str = field(default="", metadata=wire(dec=dec_str))
    certs: list[str] = field(default_factory=list, metadata=wire(dec=dec_str_list, nullable=True))
    verified_chains: list[list[str]] = field(
        default_factory=list, metadata=wire(dec=_dec_chains, nullable=True)
    )


@dataclass
class AuthorizationRequestClaims(Claims):
    """The request nats-server sends to an auth callout service (signed by the server key)."""

    server_id: ServerID = field(
        default_factory=ServerID,
        metadata=wire(enc=enc_model, dec=dec_model(ServerID), omitempty=False),
    )
    user_nkey: str = field(default="", metadata=wire(dec=dec_str, omitempty=False))
    client_info: ClientInformation = field(
        default_factory=ClientInformation,
        metadata=wire(enc=enc_model, dec=dec_model(ClientInformation), omitempty=False),
    )
    connect_opts: ConnectOptions = field(
        default_factory=ConnectOptions,
        metadata=wire(enc=enc_model, dec=dec_model(ConnectOptions), omitempty=False),
    )
    client_tls: ClientTLS | None = field(
        default=None, metadata=wire(enc=enc_model, dec=dec_model(ClientTLS), nullable=True)
    )
    request_nonce: str = field(default="", metadata=wire(dec=dec_str))

    CLAIM_TYPE: ClassVar[str] = ClaimType.AUTHORIZATION_REQUEST
    EXPECTED_ISSUERS: ClassVar[tuple[Prefix, ...] | None] = (Prefix.SERVER,)

    @classmethod
    def new(cls, subject: str) -> AuthorizationRequestClaims:
        """As Go's NewAuthorizationRequestClaims."""
        return cls(subject=subject)

    def validate(self, results: ValidationResults, *, now: int) -> None:
        """user_nkey is a user key; time checks."""
        if not self.user_nkey:
            results.add_error("User nkey is required")
        elif not is_key(self.user_nkey, Prefix.USER):
            results.add_error(
                f"User nkey {go_quote(self.user_nkey)} is not a valid user public key"
            )
        validate_times(self, results, now)


@dataclass
class AuthorizationResponseClaims(Claims):
    """The callout's answer: a user JWT or an error, for subject user_nkey, audience server id."""

    jwt: str = field(default="", metadata=wire(dec=dec_str))
    error: str = field(default="", metadata=wire(dec=dec_str))
    issuer_account: str = field(default="", metadata=wire(dec=dec_str))

    CLAIM_TYPE: ClassVar[str] = ClaimType.AUTHORIZATION_RESPONSE
    EXPECTED_ISSUERS: ClassVar[tuple[Prefix, ...] | None] = (Prefix.ACCOUNT,)

    @classmethod
    def new(cls, subject: str) -> AuthorizationResponseClaims:
        """As Go's NewAuthorizationResponseClaims: subject is the request's user_nkey."""
        return cls(subject=subject)

    def validate(self, results: ValidationResults, *, now: int) -> None:
        """Subject a user key, audience a server key, exactly one of jwt/error."""
        if not is_key(self.subject, Prefix.USER):
            results.add_error("Subject must be a user public key")
        if not is_key(self.audience, Prefix.SERVER):
            results.add_error("Audience must be a server public key")
        if not self.error and not self.jwt:
            results.add_error("Error or Jwt is required")
        if self.error and self.jwt:
            results.add_error("Only Error or Jwt can be set")
        if self.issuer_account and not is_key(self.issuer_account, Prefix.ACCOUNT):
            results.add_error("issuer_account is not an account public key")
        validate_times(self, results, now)
