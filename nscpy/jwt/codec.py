"""Encode and decode NATS JWTs (JWS compact form, alg ed25519-nkey), byte-exact with Go's jwt v2.

Theory of operation. A token is BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(signature),
all without padding. The header is always {"typ":"JWT","alg":"ed25519-nkey"}. Encoding fills in
iss (the signer), iat (a parameter: there is no hidden clock), jti (SHA-512/256 of the standard
claims only, with jti blank, in base32 without padding) and nats.version = 2, writes the payload
as Go's json.Marshal would, and signs the ASCII bytes "header.payload" with Ed25519.

Decoding mirrors Go's jwt.Decode: size limit, header check (typ "JWT" in any case, alg ed25519 or
ed25519-nkey), kind and version from the payload (a top-level "type" marks a v1 token), the
signature over "header.payload" (v2) or the payload alone (v1 and unknown kinds), then the issuer's
key role. Decoding checks nothing semantic: call validate() on the result for that.
"""

from __future__ import annotations

import base64
import binascii
import functools
import importlib
import re
from collections.abc import Callable
from typing import Any

from nscpy.jwt import gojson
from nscpy.jwt.claims import LIB_VERSION, Claims, ClaimType, find_nats
from nscpy.jwt.errors import (
    BadSignature,
    InvalidClaims,
    MalformedToken,
    TokenTooLarge,
    UnexpectedIssuer,
    UnsupportedVersion,
)
from nscpy.jwt.generic import GenericClaims
from nscpy.keys import InvalidSignature, KeyPair, NKeyError, Prefix, _sodium, decode_public
from nscpy.keys.base32 import b32encode

__all__ = [
    "MAX_TOKEN_SIZE",
    "HEADER",
    "AnyClaims",
    "encode",
    "encode_with_signer",
    "decode",
    "decode_generic",
    "peek",
    "jti_for",
]

AnyClaims = Claims | GenericClaims
MAX_TOKEN_SIZE = 1024 * 1024
"""Go's MaxTokenSize: longer tokens are refused before any parsing."""
HEADER = b'{"typ":"JWT","alg":"ed25519-nkey"}'
_HEADER_B64 = base64.urlsafe_b64encode(HEADER).rstrip(b"=").decode("ascii")
_ALG_V1 = "ed25519"
_ALG_V2 = "ed25519-nkey"

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
_AUTHORIZATION_KINDS = (ClaimType.AUTHORIZATION_REQUEST, ClaimType.AUTHORIZATION_RESPONSE)


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
_TOP_KEYS = frozenset(("aud", "exp", "jti", "iat", "iss", "name", "nbf", "sub", "nats"))
_B64URL = re.compile(r"[A-Za-z0-9_-]*\Z")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    """Go's base64.RawURLEncoding: no padding, CR/LF skipped, nothing else outside the alphabet."""
    if not _B64URL.match(text):
        text = text.replace("\r", "").replace("\n", "")
        if not _B64URL.match(text):
            raise MalformedToken(f"{what} is not unpadded base64url")
    if len(text) % 4 == 1:
        raise MalformedToken(f"{what} has an impossible base64url length {len(text)}")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedToken(f"{what} is not unpadded base64url") from None


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
    expected = claims.EXPECTED_ISSUERS
    if expected is None:
        return
    try:
        role = decode_public(issuer)[0]
    except NKeyError:
        role = None
    if role not in expected:
        roles = ", ".join(p.role for p in expected)
        raise UnexpectedIssuer(
            f"{claims.claim_type or 'generic'} JWTs must be signed by a key of role {roles},"
            f" got {issuer[:1]!r} key {issuer}"
        )


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
        payload = _b64encode(gojson.dumps(payload_dict, floats=True))
    else:
        payload_dict["nats"] = claims.nats_json_dict()
        payload = _b64encode(gojson.dumps(payload_dict))
    signing_input = f"{_HEADER_B64}.{payload}"
    signature = sign(signing_input.encode("ascii"))
    if len(signature) != 64:
        raise InvalidClaims(f"signature must be 64 bytes, got {len(signature)}")
    return f"{signing_input}.{_b64encode(signature)}"


def encode(claims: AnyClaims, signer: KeyPair, *, iat: int) -> str:
    """Encode and sign claims with signer's key; iat is the issued-at time in Unix seconds."""
    return encode_with_signer(claims, signer.public_key, signer.sign, iat=iat)


def _split(token: str) -> tuple[str, str, str]:
    if not isinstance(token, str):
        raise MalformedToken(f"a token must be a string, got {type(token).__name__}")
    if len(token) > MAX_TOKEN_SIZE:
        raise TokenTooLarge(f"token size {len(token)} exceeds maximum of {MAX_TOKEN_SIZE} bytes")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken(f"a JWT has 3 parts separated by '.', got {len(parts)}")
    return parts[0], parts[1], parts[2]


def _parse_header(text: str) -> str:
    """Check the header; returns its alg as written."""
    if text == _HEADER_B64:
        return _ALG_V2
    header = gojson.loads(_b64decode(text, "JWT header"))
    if type(header) is not dict:
        raise MalformedToken("JWT header is not a JSON object")
    fields = {k.casefold(): v for k, v in header.items()}
    typ, alg = fields.get("typ", ""), fields.get("alg", "")
    if type(typ) is not str or type(alg) is not str:
        raise MalformedToken("JWT header typ and alg must be strings")
    if typ.upper() != "JWT":
        raise MalformedToken(f'not supported type "{typ}": a JWT header has typ "JWT"')
    if alg.lower() not in (_ALG_V1, _ALG_V2):
        raise MalformedToken(f'unexpected "{alg}" algorithm: NATS JWTs use "ed25519-nkey"')
    return alg


def _parse_payload(text: str) -> dict[str, Any]:
    payload = gojson.loads(_b64decode(text, "JWT payload"))
    if type(payload) is not dict:
        raise MalformedToken("JWT payload is not a JSON object")
    return payload


def _identify(payload: dict[str, Any]) -> tuple[str, int]:
    """Go's identifier: (kind, version); a top-level "type" marks a v1 token."""
    top_type = payload.get("type")
    if top_type is None and not _TOP_KEYS.issuperset(payload):
        top_type = {k.casefold(): v for k, v in payload.items()}.get("type")
    if top_type is not None and type(top_type) is not str:
        raise MalformedToken("JSON field 'type' must be a string")
    nats = find_nats(payload)
    kind: Any = ""
    version: Any = 0
    if nats is not None:
        if type(nats) is not dict:
            raise MalformedToken("JSON field 'nats' must be an object")
        if "type" not in nats or "version" not in nats:
            nats = {k.casefold(): v for k, v in nats.items()}
        kind, version = nats.get("type"), nats.get("version")
        # a JSON null leaves Go's zero value in place
        kind = "" if kind is None else kind
        version = 0 if version is None else version
        if type(kind) is not str:
            raise MalformedToken("JSON field 'nats.type' must be a string")
        if type(version) is not int:
            raise MalformedToken("JSON field 'nats.version' must be an integer")
    if top_type:
        return top_type, 1
    return kind, version


def _load(payload: dict[str, Any]) -> tuple[AnyClaims, int]:
    kind, version = _identify(payload)
    if version > LIB_VERSION:
        raise UnsupportedVersion(
            f"JWT was generated by a newer version (nats.version {version}, this library reads 2)"
        )
    cls = _KINDS.get(kind)
    if cls is None:
        if kind in ("cluster", "server"):
            raise MalformedToken(f"{kind.capitalize()}Claims are not supported")
        return GenericClaims.from_json_dict(payload), -1
    if kind in _AUTHORIZATION_KINDS:
        return cls.from_json_dict(payload), version
    if version == 1:
        from nscpy.jwt.v1 import load_v1

        return load_v1(cls, payload), 1
    if version != LIB_VERSION:
        raise UnsupportedVersion(f"library supports version 2 or less - received {version}")
    return cls.from_json_dict(payload), version


def _verify(issuer: str, data: bytes, signature: bytes, what: str) -> None:
    try:
        _verify_raw(issuer, data, signature)
    except NKeyError:
        raise BadSignature(f"claim failed {what} signature verification") from None


def _verify_raw(issuer: str, data: bytes, signature: bytes) -> None:
    prefix, raw = decode_public(issuer)
    if prefix is Prefix.CURVE:
        raise NKeyError("curve keys cannot sign")
    _VERIFY(raw, data, signature)


def decode(token: str) -> AnyClaims:
    """Decode and verify a token as Go's jwt.Decode (raises a JWTError subclass when broken).

    Generic (unknown-kind) v2 tokens fail here exactly as in Go; use decode_generic() for those.
    """
    head, body, sig = _split(token)
    _parse_header(head)
    claims, version = _load(_parse_payload(body))
    signature = _b64decode(sig, "JWT signature")
    if version <= 1:
        _verify(claims.issuer, body.encode("ascii"), signature, "V1")
    else:
        _verify(claims.issuer, f"{head}.{body}".encode("ascii"), signature, "V2")
    _check_issuer(claims, claims.issuer)
    return claims


def decode_generic(token: str) -> GenericClaims:
    """Decode any token as generic claims (Go's DecodeGeneric: v1 signing chosen by header alg)."""
    head, body, sig = _split(token)
    alg = _parse_header(head)
    payload = _parse_payload(body)
    claims = GenericClaims.from_json_dict(payload)
    signature = _b64decode(sig, "JWT signature")
    if alg == _ALG_V1:
        _verify(claims.issuer, body.encode("ascii"), signature, "V1")
        top = {k.casefold(): v for k, v in payload.items()}
        if isinstance(top.get("type"), str) and top["type"]:
            claims.data["type"] = top["type"]
        if isinstance(top.get("tags"), list) and top["tags"]:
            claims.data["tags"] = top["tags"]
    else:
        _verify(claims.issuer, f"{head}.{body}".encode("ascii"), signature, "V2")
    return claims


def peek(token: str) -> AnyClaims:
    """UNVERIFIED: parse a token's claims without checking its signature or issuer.

    Only for displaying tokens that failed decode(); never trust what it returns.
    """
    head, body, _ = _split(token)
    _parse_header(head)
    return _load(_parse_payload(body))[0]


def _verify_signature(raw_public: bytes, data: bytes, signature: bytes) -> None:
    if len(signature) != 64:
        raise InvalidSignature(f"signature must be 64 bytes, got {len(signature)}")
    if not _sodium.verify(raw_public, data, signature):
        raise InvalidSignature("signature verification failed")


_VERIFY = _verify_signature
