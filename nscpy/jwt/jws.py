"""The token layer of NATS JWTs: parts, header, payload, kind, signature and issuer role.

Theory of operation. Go's jwt.Decode checks a token in this order: size, three parts, header
(typ "JWT" in any case, alg ed25519 or ed25519-nkey), payload JSON, kind and version (a top-level
"type" marks a v1 token), then -- after loading the claims, which may fail on a wrongly typed
field -- the signature over "header.payload" (v2) or over the payload alone (v1 and unknown
kinds), and finally the issuer's key role for that kind. open_token() does everything up to
loading the claims; Token.verify() does the rest. nscpy.jwt.codec.decode() loads typed claims in
between; verify_payload() skips them and returns the verified payload as parsed JSON.

This module builds no claim classes (no dataclasses): `describe --json` runs through it and
its start-up time is budgeted.
"""

from __future__ import annotations

import binascii
import re
from typing import Any

from nscpy.jwt import gojson
from nscpy.jwt.errors import (
    BadSignature,
    MalformedToken,
    TokenTooLarge,
    UnexpectedIssuer,
    UnsupportedVersion,
)
from nscpy.keys import NKeyError, Prefix, _sodium, decode_public

__all__ = [
    "HEADER",
    "ISSUER_ROLES",
    "LIB_VERSION",
    "MAX_TOKEN_SIZE",
    "Token",
    "open_token",
    "require_role",
    "verify_payload",
]

LIB_VERSION = 2
"""The newest nats.version this library reads (nscpy.jwt.claims.LIB_VERSION; a test checks)."""
MAX_TOKEN_SIZE = 1024 * 1024
"""Go's MaxTokenSize: longer tokens are refused before any parsing."""
HEADER = b'{"typ":"JWT","alg":"ed25519-nkey"}'
# binascii rather than base64: the base64 module (and struct) cost ~1 ms of start-up
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = str.maketrans("-_", "+/")
ALG_V1 = "ed25519"
ALG_V2 = "ed25519-nkey"

ISSUER_ROLES: dict[str, tuple[Prefix, ...]] = {
    "operator": (Prefix.OPERATOR,),
    "account": (Prefix.ACCOUNT, Prefix.OPERATOR),
    "user": (Prefix.ACCOUNT,),
    "activation": (Prefix.ACCOUNT, Prefix.OPERATOR),
    "authorization_request": (Prefix.SERVER,),
    "authorization_response": (Prefix.ACCOUNT,),
}
"""Key roles that may sign each claim kind (each class's EXPECTED_ISSUERS; a test checks);
kinds not listed load as generic claims, which any key may sign."""
_AUTHORIZATION_KINDS = ("authorization_request", "authorization_response")
_TOP_KEYS = frozenset(("aud", "exp", "jti", "iat", "iss", "name", "nbf", "sub", "nats"))
_B64URL = re.compile(r"[A-Za-z0-9_-]*\Z")


def b64encode(data: bytes) -> str:
    """Unpadded base64url text."""
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_TO_URLSAFE).decode()


def b64decode(text: str, what: str) -> bytes:
    """Go's base64.RawURLEncoding: no padding, CR/LF skipped, nothing else outside the alphabet."""
    if not _B64URL.match(text):
        text = text.replace("\r", "").replace("\n", "")
        if not _B64URL.match(text):
            raise MalformedToken(f"{what} is not unpadded base64url")
    if len(text) % 4 == 1:
        raise MalformedToken(f"{what} has an impossible base64url length {len(text)}")
    try:
        return binascii.a2b_base64(text.translate(_FROM_URLSAFE) + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedToken(f"{what} is not unpadded base64url") from None


HEADER_B64 = b64encode(HEADER)


def split(token: str) -> tuple[str, str, str]:
    """The three parts of a token, after Go's size limit."""
    if not isinstance(token, str):
        raise MalformedToken(f"a token must be a string, got {type(token).__name__}")
    if len(token) > MAX_TOKEN_SIZE:
        raise TokenTooLarge(f"token size {len(token)} exceeds maximum of {MAX_TOKEN_SIZE} bytes")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken(f"a JWT has 3 parts separated by '.', got {len(parts)}")
    return parts[0], parts[1], parts[2]


def parse_header(text: str) -> str:
    """Check the header; returns its alg as written."""
    if text == HEADER_B64:
        return ALG_V2
    header = gojson.loads(b64decode(text, "JWT header"))
    if type(header) is not dict:
        raise MalformedToken("JWT header is not a JSON object")
    fields = {k.casefold(): v for k, v in header.items()}
    typ, alg = fields.get("typ", ""), fields.get("alg", "")
    if type(typ) is not str or type(alg) is not str:
        raise MalformedToken("JWT header typ and alg must be strings")
    if typ.upper() != "JWT":
        raise MalformedToken(f'not supported type "{typ}": a JWT header has typ "JWT"')
    if alg.lower() not in (ALG_V1, ALG_V2):
        raise MalformedToken(f'unexpected "{alg}" algorithm: NATS JWTs use "ed25519-nkey"')
    return alg


def parse_payload(text: str) -> dict[str, Any]:
    """The payload part as a JSON object."""
    payload = gojson.loads(b64decode(text, "JWT payload"))
    if type(payload) is not dict:
        raise MalformedToken("JWT payload is not a JSON object")
    return payload


def _find_nats(payload: dict[str, Any]) -> Any:
    if "nats" in payload:
        return payload["nats"]
    # a key matching only case-insensitively: rare, so the claims module may load for it
    from nscpy.jwt.claims import find_nats

    return find_nats(payload)


def identify(payload: dict[str, Any]) -> tuple[str, int]:
    """Go's identifier: (kind, version); a top-level "type" marks a v1 token."""
    top_type = payload.get("type")
    if top_type is None and not _TOP_KEYS.issuperset(payload):
        top_type = {k.casefold(): v for k, v in payload.items()}.get("type")
    if top_type is not None and type(top_type) is not str:
        raise MalformedToken("JSON field 'type' must be a string")
    nats = _find_nats(payload)
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


def _checked_kind(payload: dict[str, Any]) -> tuple[str, int]:
    """(kind, version) if Go would go on to load these claims; version -1 marks generic ones."""
    kind, version = identify(payload)
    if version > LIB_VERSION:
        raise UnsupportedVersion(
            f"JWT was generated by a newer version (nats.version {version}, this library reads 2)"
        )
    if kind not in ISSUER_ROLES:
        if kind in ("cluster", "server"):
            raise MalformedToken(f"{kind.capitalize()}Claims are not supported")
        return kind, -1
    if kind in _AUTHORIZATION_KINDS or version == 1:
        return kind, version
    if version != LIB_VERSION:
        raise UnsupportedVersion(f"library supports version 2 or less - received {version}")
    return kind, version


def require_role(what: str, expected: tuple[Prefix, ...] | None, issuer: str) -> None:
    """UnexpectedIssuer unless issuer is a public key of one of the expected roles (None: any)."""
    if expected is None:
        return
    try:
        role = decode_public(issuer)[0]
    except NKeyError:
        role = None
    if role not in expected:
        roles = ", ".join(p.role for p in expected)
        raise UnexpectedIssuer(
            f"{what} JWTs must be signed by a key of role {roles}, got {issuer[:1]!r} key {issuer}"
        )


def _verify_signature(issuer: str, data: bytes, signature: bytes, what: str) -> None:
    try:
        prefix, raw = decode_public(issuer)
    except NKeyError:
        raise BadSignature(f"claim failed {what} signature verification") from None
    if prefix is Prefix.CURVE or len(signature) != 64 or not _sodium.verify(raw, data, signature):
        raise BadSignature(f"claim failed {what} signature verification")


class Token:
    """A token split and parsed up to its claims: header checked, kind and version known."""

    __slots__ = ("head", "body", "signature", "payload", "kind", "version")

    def __init__(
        self, head: str, body: str, signature: str, payload: dict[str, Any], kind: str, version: int
    ) -> None:
        self.head = head
        self.body = body
        self.signature = signature
        self.payload = payload
        self.kind = kind
        self.version = version
        """nats.version; 1 for v1 tokens, -1 for kinds that load as generic claims."""

    def verify(self, issuer: str) -> None:
        """Check the signature by issuer and issuer's role for this kind (JWTError if not)."""
        signature = b64decode(self.signature, "JWT signature")
        if self.version <= 1:
            _verify_signature(issuer, self.body.encode("ascii"), signature, "V1")
        else:
            _verify_signature(issuer, f"{self.head}.{self.body}".encode("ascii"), signature, "V2")
        require_role(self.kind, ISSUER_ROLES.get(self.kind), issuer)


def open_token(token: str) -> Token:
    """Split and parse a token as Go's jwt.Decode does before loading claims (not verified)."""
    head, body, signature = split(token)
    parse_header(head)
    payload = parse_payload(body)
    kind, version = _checked_kind(payload)
    return Token(head, body, signature, payload, kind, version)


def issuer_of(payload: dict[str, Any]) -> str:
    """The iss claim as Go's Unmarshal reads it: any key case, the last wins, null is skipped."""
    issuer = ""
    for key, value in payload.items():
        if value is None or (key != "iss" and key.casefold() != "iss"):
            continue
        if type(value) is not str:  # Go fails on the first wrongly typed value, even if shadowed
            got = type(value).__name__.replace("dict", "object")
            raise MalformedToken(f"JSON field 'iss' must be a string, got {got}")
        issuer = value
    return issuer


def verify_payload(token: str) -> dict[str, Any]:
    """The payload of a token verified as decode() verifies it, without building claim classes.

    Checks size, parts, header, kind and version, signature and the issuer's role; it does not
    check the types of the claim fields (decode() does, when it builds the claims).
    """
    opened = open_token(token)
    opened.verify(issuer_of(opened.payload))
    return opened.payload
