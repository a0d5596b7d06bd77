"""nsc-compatible keystore and data store: files only, atomic writes, nsc's exact layout.

``layout`` is pure path arithmetic; ``atomic`` does crash-safe writes, locks and batches;
``keystore`` holds seeds and creds; ``jwtstore`` holds operator/account/user JWT text;
``context`` reads and writes nsc.json. The OS keyring backend (``keyring_backend``) is imported
only when asked for, and the names below load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nscpy._lazy import lazy_exports

if TYPE_CHECKING:
    from nscpy.store.atomic import FileLock, atomic_write
    from nscpy.store.batch import Batch
    from nscpy.store.context import Context, cwd_context, load_context, sane_default, save_context
    from nscpy.store.errors import (
        AlreadyExists,
        CorruptStore,
        InvalidCreds,
        InvalidName,
        KeyConflict,
        KeyringUnavailable,
        NotFound,
        StoreError,
        StoreIOError,
        StoreLocked,
    )
    from nscpy.store.jwtstore import DataStore, StoreBatch, StoreInfo
    from nscpy.store.keystore import (
        FileSeedBackend,
        KeyInfo,
        KeyStore,
        SeedBackend,
        keyring_requested,
        public_key_of,
    )
    from nscpy.store.layout import StorePaths, resolve_paths, validate_name

# Names load on first use (PEP 562): `describe` reads one file and has a start-up budget,
# so importing the package must not pull in every module (locks, batches, keystore, ...).
_HOMES: dict[str, tuple[str, ...]] = {
    "nscpy.store.atomic": (
        "FileLock",
        "atomic_write",
    ),
    "nscpy.store.batch": ("Batch",),
    "nscpy.store.context": (
        "Context",
        "cwd_context",
        "load_context",
        "sane_default",
        "save_context",
    ),
    "nscpy.store.errors": (
        "AlreadyExists",
        "CorruptStore",
        "InvalidCreds",
        "InvalidName",
        "KeyConflict",
        "KeyringUnavailable",
        "NotFound",
        "StoreError",
        "StoreIOError",
        "StoreLocked",
    ),
    "nscpy.store.jwtstore": (
        "DataStore",
        "StoreBatch",
        "StoreInfo",
    ),
    "nscpy.store.keystore": (
        "FileSeedBackend",
        "KeyInfo",
        "KeyStore",
        "SeedBackend",
        "keyring_requested",
        "public_key_of",
    ),
    "nscpy.store.layout": (
        "StorePaths",
        "resolve_paths",
        "validate_name",
    ),
}

__all__ = [
    "AlreadyExists",
    "Batch",
    "Context",
    "CorruptStore",
    "DataStore",
    "FileLock",
    "FileSeedBackend",
    "InvalidCreds",
    "InvalidName",
    "KeyConflict",
    "KeyInfo",
    "KeyStore",
    "KeyringUnavailable",
    "NotFound",
    "SeedBackend",
    "StoreBatch",
    "StoreError",
    "StoreIOError",
    "StoreInfo",
    "StoreLocked",
    "StorePaths",
    "atomic_write",
    "cwd_context",
    "keyring_requested",
    "load_context",
    "public_key_of",
    "resolve_paths",
    "sane_default",
    "save_context",
    "validate_name",
]


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
