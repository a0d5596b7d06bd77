"""Ed25519 through libsodium, calling pynacl's compiled cffi module directly.

Importing nacl.bindings loads every binding module pynacl has: 10-20 ms here, out of a 100 ms
budget for CLI read commands, while nacl._sodium alone takes ~2 ms. Calling lib directly also
skips the wrappers' per-call checks (a few us per signature); the length checks that keep C
from reading past a buffer are done here instead. Should a future pynacl move the module, the
public nacl.bindings functions are used.
"""

from __future__ import annotations

from typing import Any

__all__ = ["seed_keypair", "sign", "verify"]

PUBLIC_KEY_BYTES = 32
SECRET_KEY_BYTES = 64
SEED_BYTES = 32
SIGNATURE_BYTES = 64


def _load() -> tuple[Any, Any]:
    try:
        from nacl import _sodium
    except ImportError:  # pragma: no cover - only on a pynacl that reorganised its internals
        return None, None
    if _sodium.lib.sodium_init() < 0:  # 0: initialised now, 1: already initialised
        raise RuntimeError("libsodium failed to initialise")
    return _sodium.ffi, _sodium.lib


_ffi, _lib = _load()


def _check(value: bytes, size: int, what: str) -> None:
    if len(value) != size:
        raise ValueError(f"{what} must be {size} bytes, got {len(value)}")


def seed_keypair(seed: bytes) -> tuple[bytes, bytes]:
    """(32-byte public key, 64-byte secret key) for a 32-byte Ed25519 seed."""
    _check(seed, SEED_BYTES, "seed")
    if _lib is None:  # pragma: no cover
        import nacl.bindings

        public, secret = nacl.bindings.crypto_sign_seed_keypair(seed)
        return bytes(public), bytes(secret)
    public = _ffi.new("unsigned char[]", PUBLIC_KEY_BYTES)
    secret = _ffi.new("unsigned char[]", SECRET_KEY_BYTES)
    if _lib.crypto_sign_seed_keypair(public, secret, seed) != 0:
        raise RuntimeError("libsodium could not derive an Ed25519 key pair")
    return _ffi.buffer(public)[:], _ffi.buffer(secret)[:]


def sign(message: bytes, secret: bytes) -> bytes:
    """The 64-byte Ed25519 signature of message by a 64-byte secret key."""
    _check(secret, SECRET_KEY_BYTES, "secret key")
    if _lib is None:  # pragma: no cover
        import nacl.bindings

        return bytes(nacl.bindings.crypto_sign(message, secret)[:SIGNATURE_BYTES])
    signed = _ffi.new("unsigned char[]", len(message) + SIGNATURE_BYTES)
    if _lib.crypto_sign(signed, _ffi.NULL, message, len(message), secret) != 0:
        raise RuntimeError("libsodium could not sign")
    signature: bytes = _ffi.buffer(signed, SIGNATURE_BYTES)[:]
    return signature


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """True when signature is public's Ed25519 signature of message."""
    _check(public, PUBLIC_KEY_BYTES, "public key")
    if len(signature) != SIGNATURE_BYTES:
        return False
    signed = signature + message
    if _lib is None:  # pragma: no cover
        import nacl.bindings
        import nacl.exceptions

        try:
            nacl.bindings.crypto_sign_open(signed, public)
        except nacl.exceptions.BadSignatureError:
            return False
        return True
    opened = _ffi.new("unsigned char[]", len(signed))
    return bool(_lib.crypto_sign_open(opened, _ffi.NULL, signed, len(signed), public) == 0)
