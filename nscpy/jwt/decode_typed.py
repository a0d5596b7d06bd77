"""Decoding a token as one known claim class (Go's DecodeAccountClaims and friends).

nscpy.jwt.codec's decode() looks the class up by the token's kind, which means knowing every claim
module; this module is given the class, so claim modules can decode through it (an account's
imports check their activation tokens) without an import cycle back to the codec.
"""

from __future__ import annotations

from typing import TypeVar

from nscpy.jwt.claims import Claims, ClaimType
from nscpy.jwt.errors import WrongKind
from nscpy.jwt.jws import Token, issuer_of, open_token

__all__ = ["decode_kind", "load_claims"]

C = TypeVar("C", bound=Claims)

# kinds that have no v1 form: a v1 header on them loads as v2 (Go's loadClaims)
_AUTHORIZATION_KINDS = (ClaimType.AUTHORIZATION_REQUEST, ClaimType.AUTHORIZATION_RESPONSE)


def load_claims(opened: Token, cls: type[C]) -> C:
    """Typed claims of class cls for an opened token (Go's loadClaims: a wrongly typed field
    fails here); v1 payloads are read with their v1 layout."""
    if opened.version == 1 and opened.kind not in _AUTHORIZATION_KINDS:
        from nscpy.jwt.v1 import load_v1

        return load_v1(cls, opened.payload)
    return cls.from_json_dict(opened.payload)


def decode_kind(token: str, kind: type[C]) -> C:
    """Decode and verify a token whose claims must be of class kind; WrongKind names both kinds
    otherwise.

    The signature is checked before the kind, so a forged token fails as forged whatever it
    claims to be. Go loads a token of another kind as that kind first; here it is not loaded, so
    a wrongly typed field in it reports WrongKind rather than the field (either way: refused).
    """
    opened = open_token(token)
    if opened.kind != kind.CLAIM_TYPE:
        opened.verify(issuer_of(opened.payload))
        raise WrongKind(kind.CLAIM_TYPE, opened.kind or ClaimType.GENERIC)
    claims = load_claims(opened, kind)
    opened.verify(claims.issuer)
    return claims
