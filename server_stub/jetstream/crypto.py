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
from collections.abc import Callable, Sequence
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
Unsealed = tuple[bytes, bytes, bytes]  # prefix (kept in clear), plaintext, aad: see seal_all
_NONCES_PER_DRAW = 256


class OpenFailed(Exception):
    """Internal: a block did not authenticate; callers turn it into StoreCorrupted/WrongKey."""


class Sealer(Protocol):
    """Turns a plaintext block into stored bytes and back, binding `aad` to it."""

    name: str
    overhead: int  # len(seal(plain, aad)) - len(plain)

    def seal(self, plain: bytes, aad: bytes) -> bytes:
        """Stored form of `plain`."""
        ...

    def seal_all(self, blocks: Sequence[Unsealed]) -> bytes:
        """b"".join(prefix + seal(plain, aad) for each block): segment records, each its
        header and its sealed body, sealed together as write-behind writes them."""
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
    overhead = 4

    def seal(self, plain: bytes, aad: bytes) -> bytes:
        """Plaintext followed by CRC-32 of aad+plaintext."""
        return plain + zlib.crc32(plain, zlib.crc32(aad)).to_bytes(4, "big")

    def seal_all(self, blocks: Sequence[Unsealed]) -> bytes:
        """Each prefix, plaintext and CRC, joined."""
        crc32 = zlib.crc32
        parts: list[bytes] = []
        for prefix, plain, aad in blocks:
            parts += (prefix, plain, crc32(plain, crc32(aad)).to_bytes(4, "big"))
        return b"".join(parts)

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
    overhead = _XNONCE + _XTAG

    def __init__(self, key: bytes, rng: Rng | None = None) -> None:
        if len(key) != bindings.crypto_aead_xchacha20poly1305_ietf_KEYBYTES:
            raise ValueError("XChaCha20-Poly1305 takes a 32-byte key")
        self._key = key
        self._rng = rng  # None: os.urandom, drawn _NONCES_PER_DRAW nonces at a time
        self._nonces = b""
        self._next_nonce = 0
        self._out: Any = None  # libsodium's output buffer, reused (see seal_all)

    def __repr__(self) -> str:
        return "ChaChaSealer(<key>)"

    def seal(self, plain: bytes, aad: bytes) -> bytes:
        """nonce || ciphertext || tag."""
        return self.seal_all(((b"", plain, aad),))

    def seal_all(self, blocks: Sequence[Unsealed]) -> bytes:
        """Each prefix || nonce || ciphertext || tag, made in one buffer."""
        nonces = self._draw_nonces(len(blocks))
        if _sodium is None or nonces is None:  # (the binding refuses a wrong nonce)
            return b"".join(self._seal_by_binding(block) for block in blocks)
        # libsodium's call as pynacl's binding makes it, without the binding's per-call
        # argument checks (their messages are formatted on every call: half the cost of a
        # 200-byte record); the key length is checked once, the nonces' by _draw_nonces.
        # Every block is sealed into one buffer, kept from call to call: one copy out.
        ffi, lib = _sodium
        size = sum(len(prefix) + len(plain) for prefix, plain, _ in blocks)
        size += len(blocks) * self.overhead
        out = self._out
        if out is None or len(out) < size:
            out = self._out = ffi.new("unsigned char[]", max(size, 1 << 16))
        view = ffi.buffer(out)
        encrypt, null, key = lib.crypto_aead_xchacha20poly1305_ietf_encrypt, ffi.NULL, self._key
        pos = at = 0
        for prefix, plain, aad in blocks:
            nonce = nonces[at : at + _XNONCE]
            at += _XNONCE
            start = pos + len(prefix) + _XNONCE
            view[pos:start] = prefix + nonce
            if encrypt(out + start, null, plain, len(plain), aad, len(aad), null, nonce, key):
                raise RuntimeError("XChaCha20-Poly1305 encryption failed")
            pos = start + len(plain) + _XTAG
        sealed: bytes = view[:pos]
        return sealed

    def _draw_nonces(self, count: int) -> bytes | None:
        """`count` fresh nonces, one after the other (None: the rng gave a wrong size)."""
        if self._rng is not None:
            drawn = [self._rng(_XNONCE) for _ in range(count)]
            if any(len(nonce) != _XNONCE for nonce in drawn):
                return None
            return b"".join(drawn)
        # one getrandom call per _NONCES_PER_DRAW records instead of one per record
        at, end = self._next_nonce, self._next_nonce + count * _XNONCE
        if end > len(self._nonces):
            fresh = os.urandom(_XNONCE * max(count, _NONCES_PER_DRAW))
            self._nonces, at, end = fresh, 0, count * _XNONCE
        self._next_nonce = end
        return self._nonces[at:end]

    def _seal_by_binding(self, block: Unsealed) -> bytes:
        prefix, plain, aad = block
        nonce = self._rng(_XNONCE) if self._rng is not None else os.urandom(_XNONCE)
        sealed = bindings.crypto_aead_xchacha20poly1305_ietf_encrypt(plain, aad, nonce, self._key)
        return prefix + nonce + sealed

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
    overhead = _GCM_NONCE + 16

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

    def seal_all(self, blocks: Sequence[Unsealed]) -> bytes:
        """Each prefix || nonce || ciphertext || tag, joined."""
        return b"".join(prefix + self.seal(plain, aad) for prefix, plain, aad in blocks)

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
