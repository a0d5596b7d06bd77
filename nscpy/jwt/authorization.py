"""Auth callout claims: the server's authorization request and the callout's response."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from nscpy.jwt._model import (
    Field,
    Model,
    dec_int,
    dec_model,
    dec_str,
    dec_str_list,
    dec_uint,
    enc_model,
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

    name: str = ""
    host: str = ""
    id: str = ""
    version: str = ""
    cluster: str = ""
    tags: list[str] = field(default_factory=list)
    xkey: str = ""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("name", "name", dec=dec_str, omitempty=False),
        Field("host", "host", dec=dec_str, omitempty=False),
        Field("id", "id", dec=dec_str, omitempty=False),
        Field("version", "version", dec=dec_str),
        Field("cluster", "cluster", dec=dec_str),
        Field("tags", "tags", dec=dec_str_list, nullable=True),
        Field("xkey", "xkey", dec=dec_str),
    )


@dataclass
class ClientInformation(Model):
    """What the server knows about the connecting client."""

    host: str = ""
    id: int = 0
    user: str = ""
    name: str = ""
    tags: list[str] = field(default_factory=list)
    name_tag: str = ""
    kind: str = ""
    type: str = ""
    mqtt_id: str = ""
    nonce: str = ""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("host", "host", dec=dec_str),
        Field("id", "id", dec=dec_uint),
        Field("user", "user", dec=dec_str),
        Field("name", "name", dec=dec_str),
        Field("tags", "tags", dec=dec_str_list, nullable=True),
        Field("name_tag", "name_tag", dec=dec_str),
        Field("kind", "kind", dec=dec_str),
        Field("type", "type", dec=dec_str),
        Field("mqtt_id", "mqtt_id", dec=dec_str),
        Field("nonce", "nonce", dec=dec_str),
    )


@dataclass
class ConnectOptions(Model):
    """The client's CONNECT options; protocol is always written."""

    jwt: str = ""
    nkey: str = ""
    sig: str = ""
    auth_token: str = ""
    user: str = ""
    password: str = ""
    name: str = ""
    lang: str = ""
    version: str = ""
    protocol: int = 0

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("jwt", "jwt", dec=dec_str),
        Field("nkey", "nkey", dec=dec_str),
        Field("sig", "sig", dec=dec_str),
        Field("auth_token", "auth_token", dec=dec_str),
        Field("user", "user", dec=dec_str),
        Field("pass", "password", dec=dec_str),
        Field("name", "name", dec=dec_str),
        Field("lang", "lang", dec=dec_str),
        Field("version", "version", dec=dec_str),
        Field("protocol", "protocol", dec=dec_int, omitempty=False),
    )


def _dec_chains(raw: Any, where: str) -> list[list[str]]:
    if type(raw) is not list:
        raise MalformedToken(f"JSON field {where!r} must be an array of arrays")
    return [[] if item is None else dec_str_list(item, where) for item in raw]


@dataclass
class ClientTLS(Model):
    """The client's TLS state, when it connected over TLS."""

    version: str = ""
    cipher: str = ""
    certs: list[str] = field(default_factory=list)
    verified_chains: list[list[str]] = field(default_factory=list)

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("version", "version", dec=dec_str),
        Field("cipher", "cipher", dec=dec_str),
        Field("certs", "certs", dec=dec_str_list, nullable=True),
        Field("verified_chains", "verified_chains", dec=_dec_chains, nullable=True),
    )


@dataclass
class AuthorizationRequestClaims(Claims):
    """The request nats-server sends to an auth callout service (signed by the server key)."""

    server_id: ServerID = field(default_factory=ServerID)
    user_nkey: str = ""
    client_info: ClientInformation = field(default_factory=ClientInformation)
    connect_opts: ConnectOptions = field(default_factory=ConnectOptions)
    client_tls: ClientTLS | None = None
    request_nonce: str = ""

    CLAIM_TYPE: ClassVar[str] = ClaimType.AUTHORIZATION_REQUEST
    EXPECTED_ISSUERS: ClassVar[tuple[Prefix, ...] | None] = (Prefix.SERVER,)
    NATS_FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("server_id", "server_id", enc=enc_model, dec=dec_model(ServerID), omitempty=False),
        Field("user_nkey", "user_nkey", dec=dec_str, omitempty=False),
        Field(
            "client_info",
            "client_info",
            enc=enc_model,
            dec=dec_model(ClientInformation),
            omitempty=False,
        ),
        Field(
            "connect_opts",
            "connect_opts",
            enc=enc_model,
            dec=dec_model(ConnectOptions),
            omitempty=False,
        ),
        Field("client_tls", "client_tls", enc=enc_model, dec=dec_model(ClientTLS), nullable=True),
        Field("request_nonce", "request_nonce", dec=dec_str),
    )

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

    jwt: str = ""
    error: str = ""
    issuer_account: str = ""

    CLAIM_TYPE: ClassVar[str] = ClaimType.AUTHORIZATION_RESPONSE
    EXPECTED_ISSUERS: ClassVar[tuple[Prefix, ...] | None] = (Prefix.ACCOUNT,)
    NATS_FIELDS: ClassVar[tuple[Field, ...]] = (
        Field("jwt", "jwt", dec=dec_str),
        Field("error", "error", dec=dec_str),
        Field("issuer_account", "issuer_account", dec=dec_str),
    )

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
