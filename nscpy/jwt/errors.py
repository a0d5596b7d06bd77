"""Errors raised when a JWT cannot be encoded or decoded (validation issues are collected)."""

from nscpy.errors import NscValueError

__all__ = [
    "JWTError",
    "MalformedToken",
    "BadSignature",
    "UnexpectedIssuer",
    "UnsupportedVersion",
    "TokenTooLarge",
    "InvalidClaims",
]


class JWTError(NscValueError):
    """Any problem encoding or decoding a NATS JWT."""


class MalformedToken(JWTError):
    """The token is not three base64url parts holding a valid header and JSON payload."""


class BadSignature(JWTError):
    """The signature does not verify against the token's issuer."""


class UnexpectedIssuer(JWTError):
    """The issuer's (or subject's) key role is not allowed for this kind of claim."""


class UnsupportedVersion(JWTError):
    """The token was made by a newer library, or lacks a version where one is required."""


class TokenTooLarge(JWTError):
    """The token is longer than the 1 MiB that Go's library accepts."""


class InvalidClaims(JWTError):
    """The claims cannot be encoded (missing subject, wrong key type, bad value)."""
