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
    "WrongKind",
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


def _with_article(kind: str) -> str:
    # the kinds are operator, account, user, activation, authorization_*, generic: "a user"
    return f"{'an' if kind[:1] in ('a', 'e', 'i', 'o') else 'a'} {kind}"


class WrongKind(JWTError):
    """A valid token of another kind than the one asked for (decode_account() given a user JWT)."""

    def __init__(self, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"the token is {_with_article(actual)} JWT, not {_with_article(expected)} JWT"
        )
