"""Encode and decode NATS JWTs (JWS compact form, alg ed25519-nkey), byte-exact with Go's jwt v2.

Theory of operation. A token is BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature),
all without padding. The header is always {"typ":"JWT","alg":"ed25519-nkey"}. Encoding fills in
iss (the signer), iat (a parameter: there is no hidden clock), jti (SHA-512/256 of the standard
claims only, with jti blank, in base32 without padding) and nats.version = 2, writes the payload
as Go's json.Marshal would, and signs the ASCII bytes "header.payload" with Ed25519.

Decoding mirrors Go's jwt.Decode: nscpy.jwt.jws opens the token (size limit, header, kind and
version), this module loads the typed claims (which fails on a wrongly typed field), then jws
checks the signature by the claims' issuer and the issuer's key role. Decoding checks nothing
semantic: call validate() on the result for that. jws.verify_payload() verifies a token the same
way without building claims.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from nscpy.jwt import gojson
from nscpy.jwt.claims import LIB_VERSION, Claims, ClaimType
from nscpy.jwt.decode_typed import decode_kind, load_claims
from nscpy.jwt.errors import InvalidClaims
from nscpy.jwt.generic import GenericClaims
from nscpy.jwt.jws import (
    ALG_V1,
    HEADER,
    HEADER_B64,
    MAX_TOKEN_SIZE,
    Token,
    b64encode,
    open_token,
    parse_header,
    parse_payload,
    require_role,
    split,
    verify_payload,
)
from nscpy.keys import KeyPair
from nscpy.keys.base32 import b32encode

if TYPE_CHECKING:
    from nscpy.jwt.account import AccountClaims
    from nscpy.jwt.activation import ActivationClaims
    from nscpy.jwt.operator import OperatorClaims
    from nscpy.jwt.user import UserClaims

__all__ = [
    "MAX_TOKEN_SIZE",
    "HEADER",
    "AnyClaims",
    "encode",
    "encode_with_signer",
    "decode",
    "decode_generic",
    "decode_kind",
    "decode_operator",
    "decode_account",
    "decode_user",
    "decode_activation",
    "peek",
    "jti_for",
    "verify_payload",
]

AnyClaims = Claims | GenericClaims
C = TypeVar("C", bound=Claims)

# Claim classes by kind, imported when a token of that kind is first seen: a command that reads
# one user JWT should not pay for building every kind's dataclasses (start-up is budgeted).
_KIND_HOMES: dict[str, tuple[str, str]] = {
    ClaimType.OPERATOR: ("nscpy.jwt.operator", "OperatorClaims"),
    ClaimType.ACCOUNT: ("nscpy.jwt.account", "AccountClaims"),
    ClaimType.USER: ("nscpy.jwt.user", "UserClaims"),
    ClaimType.ACTIVATION: ("nscpy.jwt.activation", "ActivationClaims"),
    ClaimType.AUTHORIZATION_REQUEST: ("nscpy.jwt.authorization", "AuthorizationRequestClaims"),
    ClaimType.AUTHORIZATION_RESPONSE: ("nscpy.jwt.authorization", "AuthorizationResponseClaims"),
}


class _Kinds(dict[str, "type[Claims]"]):
    """{claim type: class}, filled from _KIND_HOMES on first lookup of each kind."""

    def __missing__(self, kind: str) -> type[Claims]:
        home = _KIND_HOMES.get(kind)
        if home is None:
            raise KeyError(kind)
        cls: type[Claims] = getattr(importlib.import_module(home[0]), home[1])
        self[kind] = cls
        return cls

    def get(self, kind: str, default: Any = None) -> Any:
        """As dict.get, loading a known kind on first use."""
        try:
            return self[kind]
        except KeyError:
            return default


_KINDS = _Kinds()


@functools.cache
def _sha512_256() -> Any:
    """A fresh SHA-512/256 to copy (hashlib loads OpenSSL: ~5 ms that decoding never needs)."""
    import hashlib

    return hashlib.new("sha512_256")


def _jti(standard_json: bytes) -> str:
    digest = _sha512_256().copy()
    digest.update(standard_json)
    return b32encode(digest.digest())


def jti_for(claims: AnyClaims) -> str:
    """The jti Go computes: base32 (no padding) SHA-512/256 of the standard claims, jti blank."""
    saved, claims.id = claims.id, ""
    try:
        return _jti(gojson.dumps(claims.standard_json_dict()))
    finally:
        claims.id = saved


def _check_issuer(claims: AnyClaims, issuer: str) -> None:
    require_role(claims.claim_type or "generic", claims.EXPECTED_ISSUERS, issuer)


def encode_with_signer(
    claims: AnyClaims,
    public_key: str,
    sign: Callable[[bytes], bytes],
    *,
    iat: int,
) -> str:
    """Encode claims signed by an external signer: sign(data) returns the 64-byte signature.

    Like Go, this fills in claims.issuer, issued_at, id (jti) and version on the object.
    """
    claims.prepare_encode()
    if not claims.subject:
        raise InvalidClaims("subject is not set")
    _check_issuer(claims, public_key)
    claims.issuer = public_key
    claims.issued_at = iat
    claims.id = ""
    standard = claims.standard_json_dict()
    claims.id = jti = _jti(gojson.dumps(standard))
    claims.version = LIB_VERSION
    # jti sits third in Go's field order (after aud and exp); rebuild rather than re-walk fields
    payload_dict: dict[str, Any] = {}
    for key, value in standard.items():
        if key == "iat":
            payload_dict["jti"] = jti
        payload_dict[key] = value
    if isinstance(claims, GenericClaims):
        if claims.data:
            payload_dict["nats"] = claims.to_json_dict()["nats"]
        payload = b64encode(gojson.dumps(payload_dict, floats=True))
    else:
        payload_dict["nats"] = claims.nats_json_dict()
        payload = b64encode(gojson.dumps(payload_dict))
    signing_input = f"{HEADER_B64}.{payload}"
    signature = sign(signing_input.encode("ascii"))
    if len(signature) != 64:
        raise InvalidClaims(f"signature must be 64 bytes, got {len(signature)}")
    return f"{signing_input}.{b64encode(signature)}"


def encode(claims: AnyClaims, signer: KeyPair, *, iat: int) -> str:
    """Encode and sign claims with signer's key; iat is the issued-at time in Unix seconds."""
    return encode_with_signer(claims, signer.public_key, signer.sign, iat=iat)


def _load(token: Token) -> AnyClaims:
    """Typed claims for an opened token (Go's loadClaims: a wrongly typed field fails here)."""
    cls: type[Claims] | None = _KINDS.get(token.kind)
    if cls is None:
        return GenericClaims.from_json_dict(token.payload)
    return load_claims(token, cls)


def decode(token: str) -> AnyClaims:
    """Decode and verify a token as Go's jwt.Decode (raises a JWTError subclass when broken).

    Generic (unknown-kind) v2 tokens fail here exactly as in Go; use decode_generic() for those.
    """
    opened = open_token(token)
    claims = _load(opened)
    opened.verify(claims.issuer)
    return claims


def decode_operator(token: str) -> OperatorClaims:
    """Decode and verify an operator JWT (WrongKind for any other kind)."""
    from nscpy.jwt.operator import OperatorClaims

    return decode_kind(token, OperatorClaims)


def decode_account(token: str) -> AccountClaims:
    """Decode and verify an account JWT (WrongKind for any other kind)."""
    from nscpy.jwt.account import AccountClaims

    return decode_kind(token, AccountClaims)


def decode_user(token: str) -> UserClaims:
    """Decode and verify a user JWT (WrongKind for any other kind)."""
    from nscpy.jwt.user import UserClaims

    return decode_kind(token, UserClaims)


def decode_activation(token: str) -> ActivationClaims:
    """Decode and verify an activation JWT (WrongKind for any other kind)."""
    from nscpy.jwt.activation import ActivationClaims

    return decode_kind(token, ActivationClaims)


def decode_generic(token: str) -> GenericClaims:
    """Decode any token as generic claims (Go's DecodeGeneric: v1 signing chosen by header alg)."""
    head, body, sig = split(token)
    alg = parse_header(head)
    payload = parse_payload(body)
    claims = GenericClaims.from_json_dict(payload)
    # an unknown kind is checked as v1 (payload alone is signed) and by any issuer
    Token(head, body, sig, payload, "", 1 if alg == ALG_V1 else 2).verify(claims.issuer)
    if alg == ALG_V1:
        top = {k.casefold(): v for k, v in payload.items()}
        if isinstance(top.get("type"), str) and top["type"]:
            claims.data["type"] = top["type"]
        if isinstance(top.get("tags"), list) and top["tags"]:
            claims.data["tags"] = top["tags"]
    return claims


def peek(token: str) -> AnyClaims:
    """UNVERIFIED: parse a token's claims without checking its signature or issuer.

    Only for displaying tokens that failed decode(); never trust what it returns, and never use
    it to find or choose anything (decode_account() and friends verify and check the kind).
    """
    return _load(open_token(token))
