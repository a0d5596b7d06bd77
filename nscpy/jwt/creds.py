"""Decorated credentials (.creds): the user JWT and seed between BEGIN/END marker lines."""

from __future__ import annotations

import re

from nscpy.jwt.errors import InvalidClaims, MalformedToken

__all__ = [
    "format_user_creds",
    "format_jwt",
    "decorate_seed",
    "parse_decorated_jwt",
    "parse_decorated_seed",
]

# Go's userConfigRE, with RE2's ASCII \w and \s, and \z as \Z
_BLOCK = re.compile(
    r"[\t\n\f\r ]*(?:(?:-{3,}.*-{3,}\r?\n)([\w\-.=]+)(?:\r?\n-{3,}.*-{3,}(\r?\n|\Z)))",
    re.ASCII,
)
_SEED_KINDS = {"SU": "USER", "SA": "ACCOUNT", "SO": "OPERATOR"}


def format_jwt(kind: str, token: str) -> str:
    """The BEGIN/END block for a JWT of the given claim type."""
    kind = kind.upper()
    return f"-----BEGIN NATS {kind} JWT-----\n{token}\n------END NATS {kind} JWT------\n\n"


def decorate_seed(seed: str) -> str:
    """The IMPORTANT banner and BEGIN/END block for an operator, account or user seed."""
    seed = seed.strip()
    if len(seed) < 2:
        raise InvalidClaims("seed is too short")
    kind = _SEED_KINDS.get(seed[:2])
    if kind is None:
        raise InvalidClaims("seed is not an operator, account or user seed")
    return (
        "************************* IMPORTANT *************************\n"
        "NKEY Seed printed below can be used to sign and prove identity.\n"
        "NKEYs are sensitive and should be treated as secrets.\n\n"
        f"-----BEGIN {kind} NKEY SEED-----\n{seed}\n------END {kind} NKEY SEED------\n\n"
        "*************************************************************\n"
    )


def format_user_creds(token: str, seed: str) -> str:
    """The exact text Go's FormatUserConfig writes; the seed must be the JWT subject's (SU...)."""
    from nscpy.jwt.codec import decode_user
    from nscpy.jwt.errors import WrongKind
    from nscpy.keys import KeyPair

    try:
        claims = decode_user(token)
    except WrongKind as exc:  # Go's message
        raise InvalidClaims(f'"{exc.actual}" cannot be serialized as a user config') from None
    if not seed.strip().startswith("SU"):
        raise InvalidClaims("nkey seed is not an user seed")
    if KeyPair.from_seed(seed.strip()).public_key != claims.subject:
        raise InvalidClaims("nkey seed does not match the jwt subject")
    return format_jwt(claims.claim_type, token) + decorate_seed(seed)


def parse_decorated_jwt(contents: str) -> str:
    """The first decorated block (the JWT); undecorated input is returned whole, as in Go."""
    match = _BLOCK.search(contents)
    return contents if match is None else match.group(1)


def parse_decorated_seed(contents: str) -> str:
    """The seed: the second decorated block, else the first line starting SO/SA/SU (nsc)."""
    blocks = [m.group(1) for m in _BLOCK.finditer(contents)]
    seed = blocks[1] if len(blocks) > 1 else None
    if seed is None:
        for line in contents.split("\n"):
            if line.strip()[:2] in _SEED_KINDS:
                seed = line.strip()
                break
    if seed is None:
        raise MalformedToken("no nkey seed found")
    if seed[:2] not in _SEED_KINDS:
        raise MalformedToken("doesn't contain a seed nkey")
    return seed
