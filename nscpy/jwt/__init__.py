"""NATS JWT v2, byte-compatible with Go's nats-io/jwt v2: claims, encode/decode, validation.

Pure: no files and no clock (iat and now are parameters). PyJWT is not imported here; see
nscpy.jwt.pyjwt_alg for an ed25519-nkey algorithm to plug into PyJWT when wanted.

The names below are loaded on first use (PEP 562): CLI read commands have a 100 ms start-up
budget, and building every claim kind's dataclasses costs ~30 ms of it, while describing a
user needs the user kind only (nscpy.jwt.codec also loads kinds on demand).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nscpy._lazy import lazy_exports

if TYPE_CHECKING:
    from nscpy.jwt.account import (
        ANY_ACCOUNT,
        AccountClaims,
        ExternalAuthorization,
        JetStreamLimits,
        MsgTrace,
        OperatorLimits,
        WeightedMapping,
    )
    from nscpy.jwt.activation import ActivationClaims
    from nscpy.jwt.authorization import (
        AuthorizationRequestClaims,
        AuthorizationResponseClaims,
        ClientInformation,
        ClientTLS,
        ConnectOptions,
        ServerID,
    )
    from nscpy.jwt.chain import (
        validate_activation_against_account,
        validate_user_against_account,
    )
    from nscpy.jwt.claims import LIB_VERSION, Claims, ClaimType
    from nscpy.jwt.codec import (
        HEADER,
        MAX_TOKEN_SIZE,
        AnyClaims,
        decode,
        decode_account,
        decode_activation,
        decode_generic,
        decode_kind,
        decode_operator,
        decode_user,
        encode,
        encode_with_signer,
        jti_for,
        peek,
    )
    from nscpy.jwt.creds import (
        format_user_creds,
        parse_decorated_jwt,
        parse_decorated_seed,
    )
    from nscpy.jwt.errors import (
        BadSignature,
        InvalidClaims,
        JWTError,
        MalformedToken,
        TokenTooLarge,
        UnexpectedIssuer,
        UnsupportedVersion,
        WrongKind,
    )
    from nscpy.jwt.exports import Export, ServiceLatency
    from nscpy.jwt.generic import GenericClaims
    from nscpy.jwt.imports import Import
    from nscpy.jwt.jws import verify_payload
    from nscpy.jwt.operator import OperatorClaims
    from nscpy.jwt.permissions import (
        NO_LIMIT,
        Permission,
        Permissions,
        ResponsePermission,
        TimeRange,
        UserPermissionLimits,
    )
    from nscpy.jwt.revocations import ALL, RevocationList, is_revoked
    from nscpy.jwt.signing_keys import SigningKeys, UserScope
    from nscpy.jwt.subject import (
        has_wildcards,
        is_contained_in,
        is_literal,
        is_valid_subject,
        subject_matches,
        subject_subset,
        validate_subject,
    )
    from nscpy.jwt.user import UserClaims
    from nscpy.jwt.validation import ValidationIssue, ValidationResults

_HOMES: dict[str, tuple[str, ...]] = {
    "nscpy.jwt.account": (
        "ANY_ACCOUNT",
        "AccountClaims",
        "ExternalAuthorization",
        "JetStreamLimits",
        "MsgTrace",
        "OperatorLimits",
        "WeightedMapping",
    ),
    "nscpy.jwt.activation": ("ActivationClaims",),
    "nscpy.jwt.authorization": (
        "AuthorizationRequestClaims",
        "AuthorizationResponseClaims",
        "ClientInformation",
        "ClientTLS",
        "ConnectOptions",
        "ServerID",
    ),
    "nscpy.jwt.chain": ("validate_activation_against_account", "validate_user_against_account"),
    "nscpy.jwt.claims": ("ClaimType", "Claims", "LIB_VERSION"),
    "nscpy.jwt.codec": (
        "AnyClaims",
        "HEADER",
        "MAX_TOKEN_SIZE",
        "decode",
        "decode_account",
        "decode_activation",
        "decode_generic",
        "decode_kind",
        "decode_operator",
        "decode_user",
        "encode",
        "encode_with_signer",
        "jti_for",
        "peek",
    ),
    "nscpy.jwt.creds": ("format_user_creds", "parse_decorated_jwt", "parse_decorated_seed"),
    "nscpy.jwt.errors": (
        "BadSignature",
        "InvalidClaims",
        "JWTError",
        "MalformedToken",
        "TokenTooLarge",
        "UnexpectedIssuer",
        "UnsupportedVersion",
        "WrongKind",
    ),
    "nscpy.jwt.exports": ("Export", "ServiceLatency"),
    "nscpy.jwt.generic": ("GenericClaims",),
    "nscpy.jwt.imports": ("Import",),
    "nscpy.jwt.jws": ("verify_payload",),
    "nscpy.jwt.operator": ("OperatorClaims",),
    "nscpy.jwt.permissions": (
        "NO_LIMIT",
        "Permission",
        "Permissions",
        "ResponsePermission",
        "TimeRange",
        "UserPermissionLimits",
    ),
    "nscpy.jwt.revocations": ("ALL", "RevocationList", "is_revoked"),
    "nscpy.jwt.signing_keys": ("SigningKeys", "UserScope"),
    "nscpy.jwt.subject": (
        "has_wildcards",
        "is_contained_in",
        "is_literal",
        "is_valid_subject",
        "subject_matches",
        "subject_subset",
        "validate_subject",
    ),
    "nscpy.jwt.user": ("UserClaims",),
    "nscpy.jwt.validation": ("ValidationIssue", "ValidationResults"),
}

__all__ = [
    "ALL",
    "ANY_ACCOUNT",
    "AccountClaims",
    "ActivationClaims",
    "AnyClaims",
    "AuthorizationRequestClaims",
    "AuthorizationResponseClaims",
    "BadSignature",
    "ClaimType",
    "Claims",
    "ClientInformation",
    "ClientTLS",
    "ConnectOptions",
    "Export",
    "ExternalAuthorization",
    "GenericClaims",
    "HEADER",
    "Import",
    "InvalidClaims",
    "JWTError",
    "JetStreamLimits",
    "LIB_VERSION",
    "MAX_TOKEN_SIZE",
    "MalformedToken",
    "MsgTrace",
    "NO_LIMIT",
    "OperatorClaims",
    "OperatorLimits",
    "Permission",
    "Permissions",
    "ResponsePermission",
    "RevocationList",
    "ServerID",
    "ServiceLatency",
    "SigningKeys",
    "TimeRange",
    "TokenTooLarge",
    "UnexpectedIssuer",
    "UnsupportedVersion",
    "UserClaims",
    "UserPermissionLimits",
    "UserScope",
    "ValidationIssue",
    "ValidationResults",
    "WeightedMapping",
    "WrongKind",
    "decode",
    "decode_account",
    "decode_activation",
    "decode_generic",
    "decode_kind",
    "decode_operator",
    "decode_user",
    "encode",
    "encode_with_signer",
    "format_user_creds",
    "has_wildcards",
    "is_contained_in",
    "is_literal",
    "is_revoked",
    "is_valid_subject",
    "jti_for",
    "parse_decorated_jwt",
    "parse_decorated_seed",
    "peek",
    "subject_matches",
    "subject_subset",
    "validate_activation_against_account",
    "validate_subject",
    "validate_user_against_account",
    "verify_payload",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
