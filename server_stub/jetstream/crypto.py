"""Sealing of stored blocks: per-stream keys, AEAD, and the plain (CRC-only) control case.

Key derivation is keyed BLAKE2b (RFC 7693) over hashlib: the configured key text is first
hashed to a 32-byte master key (so any length is accepted), then each stream and purpose gets
its own 32-byte key, `BLAKE2b(key=master, person="nscpy-js-v1", data=account/stream/purpose)`.
Records are sealed with XChaCha20-Poly1305-IETF (libsodium via pynacl) under a fresh random
24-byte nonce each: at 192 bits, random nonces never collide in practice, so no counter has to
survive crashes. `aes` uses AES-256-GCM from `cryptography` with random 96-bit nonces, which is
safe for well over the 2^32 records per stream key the stub will ever write; it is refused with
a clear message when `cryptography` is not installed.
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Callable
from typing import Any, Protocol

from nacl import bindings

from server_stub.jetstream.errors import JsConfigError

_PERSON = b"nscpy-js-v1"
_XNONCE = bindings.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
_XTAG = bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES  # 16
try:  # pynacl's own cffi module (its bindings call libsodium through it)
    from nacl import _sodium as _sodium_module

    _sodium: tuple[Any, Any] | None = (_sodium_module.ffi, _sodium_module.lib)
except ImportError:  # another pynacl layout: the public binding, slower
    _sodium = None
_GCM_NONCE = 12

Rng = Callable[[int], bytes]
_NONCES_PER_DRAW = 256


class OpenFailed(Exception):
    """Internal: a block did not authenticate; callers turn it into StoreCorrupted/WrongKey."""


class Sealer(Protocol):
    """Turns a plaintext block into stored bytes and back, binding `aad` to it."""

    name: str

    def seal(self, plain: bytes, aad: bytes) -> bytes:
        """Stored form of `plain`."""
        ...

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        """Plaintext of a stored block; raises OpenFailed when it does not check out."""
        ...


def master_key(key_text: bytes) -> bytes:
    """The 32-byte master key derived from the configured key text."""
    return hashlib.blake2b(key_text, digest_size=32, person=b"nscpy-js-master").digest()


def derive_key(master: bytes, account: str, stream: str, purpose: str) -> bytes:
    """A 32-byte key unique to (account, stream, purpose) under `master`."""
    context = "\x00".join((account, stream, purpose)).encode()
    return hashlib.blake2b(context, digest_size=32, key=master, person=_PERSON).digest()


class PlainSealer:
    """No cipher: the block is stored in clear with a CRC-32 so corruption is still caught."""

    name = "none"

    def seal(self, plain: bytes, aad: bytes) -> bytes:
        """Plaintext followed by CRC-32 of aad+plaintext."""
        return plain + zlib.crc32(plain, zlib.crc32(aad)).to_bytes(4, "big")

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        """The plaintext after checking the CRC."""
        if len(sealed) < 4:
            raise OpenFailed("block shorter than its checksum")
        plain, crc = sealed[:-4], sealed[-4:]
        if zlib.crc32(plain, zlib.crc32(aad)).to_bytes(4, "big") != crc:
            raise OpenFailed("checksum mismatch")
        return plain


class ChaChaSealer:
    """XChaCha20-Poly1305-IETF with a random 24-byte nonce stored in front of each block."""

    name = "chachapoly"

    def __init__(self, key: bytes, rng: Rng | None = None) -> None:
        if len(key) != bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES:
            raise ValueError("XChaCha20-Poly1305 takes a 32-byte key")
        self._key = key
        self._rng = rng  # None: os.urandom, drawn _NONCES_PER_DRAW nonces at a time
        self._nonces = b""
        self._next_nonce = 0

    def __repr__(self) -> str:
        return "ChaChaSealer(<key>)"

    def seal(self, plain: bytes, aad: bytes) -> bytes:
        """nonce || ciphertext || tag."""
        if self._rng is not None:
            nonce = self._rng(_XNONCE)
        else:
            # one getrandom call per _NONCES_PER_DRAW records instead of one per record
            at = self._next_nonce
            if at >= len(self._nonces):
                self._nonces, at = os.urandom(_XNONCE * _NONCES_PER_DRAW), 0
            self._next_nonce = at + _XNONCE
            nonce = self._nonces[at : at + _XNONCE]
        if _sodium is None or len(nonce) != _XNONCE:  # (the binding refuses a wrong nonce)
            return nonce + bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(
                plain, aad, nonce, self._key
            )
        # libsodium's call as pynacl's binding makes it, without the binding's per-call
        # argument checks (their messages are formatted on every call: half the cost of a
        # 200-byte record); the key length is checked once, the nonce's just above. The
        # nonce and the ciphertext go into one buffer: one copy out.
        ffi, lib = _sodium
        out = ffi.new("unsigned char[]", _XNONCE + len(plain) + _XTAG)
        ffi.memmove(out, nonce, _XNONCE)
        if lib.crypto_aead_xchacha20poly1305_ietf_encrypt(
            out + _XNONCE, ffi.NULL, plain, len(plain), aad, len(aad), ffi.NULL, nonce, self._key
        ):
            raise RuntimeError("XChaCha20-Poly1305 encryption failed")
        sealed: bytes = ffi.buffer(out)[:]
        return sealed

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        """Authenticated plaintext."""
        if len(sealed) < _XNONCE + 16:
            raise OpenFailed("block shorter than nonce and tag")
        try:
            return bytes(
                bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(
                    sealed[_XNONCE:], aad, sealed[:_XNONCE], self._key
                )
            )
        except Exception as exc:  # pynacl raises CryptoError; any failure is a bad block
            raise OpenFailed("authentication failed") from exc


class AesGcmSealer:
    """AES-256-GCM with a random 12-byte nonce stored in front of each block."""

    name = "aes"

    def __init__(self, key: bytes, rng: Rng = os.urandom) -> None:
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError:
            raise JsConfigError(
                "jetstream cipher aes needs the 'cryptography' package; "
                "install it or use cipher: chachapoly"
            ) from None
        self._aead = AESGCM(key)
        self._rng = rng

    def __repr__(self) -> str:
        return "AesGcmSealer(<key>)"

    def seal(self, plain: bytes, aad: bytes) -> bytes:
        """nonce || ciphertext || tag."""
        nonce = self._rng(_GCM_NONCE)
        return nonce + self._aead.encrypt(nonce, plain, aad)

    def open(self, sealed: bytes, aad: bytes) -> bytes:
        """Authenticated plaintext."""
        if len(sealed) < _GCM_NONCE + 16:
            raise OpenFailed("block shorter than nonce and tag")
        try:
            return self._aead.decrypt(sealed[:_GCM_NONCE], sealed[_GCM_NONCE:], aad)
        except Exception as exc:  # cryptography raises InvalidTag
            raise OpenFailed("authentication failed") from exc


def make_sealer(
    cipher: str | None, master: bytes | None, account: str, stream: str, purpose: str
) -> Sealer:
    """The sealer for one stream file kind; PlainSealer when no cipher is configured."""
    if cipher is None:
        return PlainSealer()
    if master is None:
        raise JsConfigError(f"jetstream cipher {cipher} needs a key")
    key = derive_key(master, account, stream, purpose)
    if cipher == "chachapoly":
        return ChaChaSealer(key)
    if cipher == "aes":
        return AesGcmSealer(key)
    raise JsConfigError(f"jetstream cipher must be chachapoly or aes, got {cipher!r}")
