"""Errors raised by the keystore and the data store; all are NscError, so the CLI shows one line."""

from __future__ import annotations

from nscpy.errors import NscError, NscValueError

__all__ = [
    "StoreError",
    "NotFound",
    "AlreadyExists",
    "AmbiguousName",
    "KeyConflict",
    "InvalidName",
    "StoreLocked",
    "UnsafePath",
    "StoreIOError",
    "CorruptStore",
    "InvalidCreds",
    "KeyringUnavailable",
]


class StoreError(NscError):
    """Any problem with the keystore, the data store or nsc.json."""


class NotFound(StoreError, LookupError):
    """An operator, account, user, key or creds file that is not in the store."""


class AmbiguousName(StoreError, LookupError):
    """A name given on the command line matches several stored names: never pick one."""


class AlreadyExists(StoreError):
    """Something with this name (or key) is already in the store."""


class KeyConflict(StoreError):
    """A different seed is already stored for the same public key."""


class InvalidName(StoreError, NscValueError):
    """An operator, account or user name that cannot be used as a file name."""


class StoreLocked(StoreError):
    """Another process holds the store lock longer than we were willing to wait."""


class StoreIOError(StoreError, OSError):
    """The file system refused a read or write (permissions, full disk, not a directory...)."""

    def __str__(self) -> str:
        # OSError would prefix "[Errno N] "; the message already names the path and reason.
        return str(self.strerror) if self.strerror is not None else super().__str__()


class UnsafePath(StoreError):
    """A directory inside the store is a symbolic link: writing through it could land anywhere."""


class CorruptStore(StoreError):
    """A store file exists but its content is not what nsc writes (bad .nsc, bad nsc.json)."""


class InvalidCreds(StoreError, NscValueError):
    """Text handed to the keystore as a creds file that holds no usable user seed."""


class KeyringUnavailable(StoreError):
    """The OS keyring backend was requested but cannot be used."""
