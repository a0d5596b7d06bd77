"""An `ed25519-nkey` algorithm for PyJWT, backed by nscpy.keys (import only where PyJWT is wanted).

nscpy's own codec does not use PyJWT: importing PyJWT costs ~80 ms and its payload encoder is not
Go's, so token bytes (and jti) would differ. This adapter lets code that already speaks PyJWT
verify NATS JWTs, or sign JWS with NKeys:

    import jwt as pyjwt
    from nscpy.jwt.pyjwt_alg import register
    register()
    claims = pyjwt.decode(token, issuer_public_key, algorithms=["ed25519-nkey"])

Signing keys are nscpy KeyPairs or seed strings; verification keys are PublicKeys, KeyPairs or
public key strings (e.g. the token's own `iss`, after you decided to trust it).
"""

from __future__ import annotations

from typing import Any, NoReturn

import jwt as pyjwt
from jwt.algorithms import Algorithm

from nscpy.keys import KeyPair, NKeyError, PublicKey

__all__ = ["ALG", "NKeyAlgorithm", "register", "header"]

ALG = "ed25519-nkey"
"""The JWS alg name NATS uses."""


def header() -> dict[str, str]:
    """The header NATS writes; pass headers=header(), sort_headers=False to keep typ first."""
    return {"typ": "JWT", "alg": ALG}


class NKeyAlgorithm(Algorithm):
    """PyJWT algorithm: Ed25519 signatures by NKeys over the JWS signing input."""

    def prepare_key(self, key: Any) -> KeyPair | PublicKey:
        """Accept a KeyPair, PublicKey, seed string or public key string."""
        if isinstance(key, (KeyPair, PublicKey)):
            return key
        if isinstance(key, bytes):
            key = key.decode("ascii")
        if isinstance(key, str):
            return KeyPair.from_seed(key) if key.startswith("S") else PublicKey(key)
        raise pyjwt.InvalidKeyError(f"expected an NKey, got {type(key).__name__}")

    def sign(self, msg: bytes, key: Any) -> bytes:
        """Sign with a KeyPair (a PublicKey cannot sign)."""
        if not isinstance(key, KeyPair):
            raise pyjwt.InvalidKeyError("signing needs an NKey seed or KeyPair, not a public key")
        return key.sign(msg)

    def verify(self, msg: bytes, key: Any, sig: bytes) -> bool:
        """True when sig is key's signature of msg."""
        try:
            key.verify(msg, sig)
        except NKeyError:
            return False
        return True

    @staticmethod
    def to_jwk(key_obj: Any, as_dict: bool = False) -> NoReturn:
        """NKeys have no JWK form."""
        raise NotImplementedError("NKeys have no JWK representation")

    @staticmethod
    def from_jwk(jwk: Any) -> NoReturn:
        """NKeys have no JWK form."""
        raise NotImplementedError("NKeys have no JWK representation")


def register() -> None:
    """Register the algorithm with PyJWT's default instance (idempotent)."""
    if ALG not in pyjwt.api_jws._jws_global_obj._algorithms:
        pyjwt.register_algorithm(ALG, NKeyAlgorithm())
