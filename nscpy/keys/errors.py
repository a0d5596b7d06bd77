"""Errors raised by the NKey codec and key pairs."""

from nscpy.errors import NscValueError

__all__ = [
    "NKeyError",
    "InvalidEncoding",
    "InvalidChecksum",
    "InvalidPrefix",
    "InvalidSeed",
    "InvalidPublicKey",
    "InvalidSignature",
    "InvalidKeyOperation",
    "InvalidEncrypted",
    "InvalidEncVersion",
    "CouldNotDecrypt",
]


class NKeyError(NscValueError):
    """Any problem with an NKey string, seed, signature or sealed box."""


class InvalidEncoding(NKeyError):
    """The text is not canonical upper-case base32 of the expected length."""


class InvalidChecksum(NKeyError):
    """The CRC-16 at the end of the key does not match its contents."""


class InvalidPrefix(NKeyError):
    """The key's role (its first letter) is not the one that was expected."""


class InvalidSeed(NKeyError):
    """The text is not a valid NKey seed."""


class InvalidPublicKey(NKeyError):
    """The text is not a valid NKey public key."""


class InvalidSignature(NKeyError):
    """A signature did not verify, or is not 64 bytes."""


class InvalidKeyOperation(NKeyError):
    """The key cannot do this (a public key cannot sign, a curve key cannot sign, ...)."""


class InvalidEncrypted(NKeyError):
    """A sealed message is too short to be an xkv1 box."""


class InvalidEncVersion(NKeyError):
    """A sealed message does not start with the xkv1 version marker."""


class CouldNotDecrypt(NKeyError):
    """A sealed message failed authentication (wrong key or tampered bytes)."""
