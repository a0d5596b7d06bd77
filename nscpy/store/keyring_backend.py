"""Seeds in the OS keyring (via the `keyring` package) instead of .nk files.

Imported only when NSCPY_KEYRING / --keyring asks for it: `keyring` discovers its backends at
import, which costs more than a read command's start-up budget. Keyrings cannot enumerate
entries, so for each stored seed an empty-secret marker ``<keystore>/keyring/<K>/<XY>/<PUB>.ref``
(content: the service name) records that the key exists; nsc ignores these files.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from nscpy.store import atomic, journal
from nscpy.store.batch import Batch
from nscpy.store.errors import KeyConflict, KeyringUnavailable
from nscpy.store.layout import StorePaths, key_relpath

__all__ = ["DEFAULT_SERVICE", "REF_EXT", "KeyringSeedBackend"]

DEFAULT_SERVICE = "nscpy"
REF_EXT = ".ref"
_REF_DIR = "keyring"


class KeyringSeedBackend:
    """A SeedBackend over a `keyring` backend: service name fixed, username = public key."""

    def __init__(
        self, paths: StorePaths, *, service: str = DEFAULT_SERVICE, impl: Any | None = None
    ) -> None:
        self.paths = paths
        self.service = service
        self._impl = impl

    def _keyring(self) -> Any:
        if self._impl is None:
            try:
                import keyring
            except ImportError as exc:  # pragma: no cover - keyring is a dependency
                raise KeyringUnavailable(f"the keyring package cannot be imported: {exc}") from exc
            self._impl = keyring.get_keyring()
        return self._impl

    def _call(self, what: str, fn: Any, *args: str) -> Any:
        from keyring.errors import KeyringError

        try:
            return fn(*args)
        except KeyringError as exc:
            raise KeyringUnavailable(
                f"OS keyring cannot {what} ({type(exc).__name__}: {exc}); "
                "configure a keyring backend or unset NSCPY_KEYRING to keep seeds in files"
            ) from None

    def ref_path(self, public_key: str) -> Path:
        """The marker file recording that public_key's seed is in the keyring."""
        rel = key_relpath(public_key)
        return (
            self.paths.keystore_dir
            / _REF_DIR
            / rel.parent.relative_to(rel.parts[0])
            / (public_key + REF_EXT)
        )

    def _conflict(self, public_key: str) -> KeyConflict:
        return KeyConflict(
            f"a different seed for {public_key} is already in the OS keyring "
            f"(service {self.service!r}); remove it first if you mean to replace it"
        )

    def get(self, public_key: str) -> str | None:
        """The seed for public_key from the keyring, or None."""
        self.ref_path(public_key)  # validates the key before it reaches the keyring
        kr = self._keyring()
        seed = self._call("read a seed", kr.get_password, self.service, public_key)
        return None if seed is None else str(seed)

    def _store(self, public_key: str, seed: str) -> bool:
        """Store the seed unless the same one is there (True if stored); KeyConflict if not."""
        existing = self.get(public_key)
        if existing is not None and existing != seed:
            raise self._conflict(public_key)
        if existing is None:
            kr = self._keyring()
            self._call("store a seed", kr.set_password, self.service, public_key, seed)
            journal.note_undo(lambda: self._forget(public_key))
        return existing is None

    def _forget(self, public_key: str) -> None:
        from keyring.errors import PasswordDeleteError

        with contextlib.suppress(PasswordDeleteError):
            self._call("delete a seed", self._keyring().delete_password, self.service, public_key)

    def put(self, public_key: str, seed: str) -> bool:
        """Store the seed unless the same one is there; KeyConflict if a different one is."""
        stored = self._store(public_key, seed)
        atomic.atomic_write(self.ref_path(public_key), self.service, root=self.paths.keystore_dir)
        return stored

    def stage(self, batch: Batch, public_key: str, seed: str, *, new: bool = False) -> None:
        """Keyrings have no transactions: the seed is stored now, the marker with the batch."""
        self._store(public_key, seed)
        batch.write(self.ref_path(public_key), self.service)

    def remove(self, public_key: str) -> bool:
        """Delete the seed from the keyring and its marker; False if neither existed."""
        from keyring.errors import PasswordDeleteError

        kr = self._keyring()
        old_seed = self.get(public_key)
        had = old_seed is not None
        if old_seed is not None:
            journal.note_undo(lambda: self._store(public_key, old_seed))
            with contextlib.suppress(PasswordDeleteError):
                self._call("delete a seed", kr.delete_password, self.service, public_key)
        if atomic.remove_below(self.paths.keystore_dir, self.ref_path(public_key)):
            had = True
        return had

    def public_keys(self) -> list[str]:
        """Public keys that have a marker file (the keyring itself cannot be listed)."""
        root = self.paths.keystore_dir / _REF_DIR
        found: list[str] = []
        for dirpath, _, files in os.walk(root):
            del dirpath
            found.extend(
                f[: -len(REF_EXT)]
                for f in files
                if f.endswith(REF_EXT) and not atomic.is_temp_name(f)
            )
        return found
