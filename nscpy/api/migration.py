"""Moving things into and out of a store: operator, account and user JWTs, seed files, and an
operator's new identity. Each is one call into nscpy.actions inside a transaction."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from nscpy.api.base import StoreBase

if TYPE_CHECKING:
    from nscpy.actions.entities import Saved
    from nscpy.actions.keyfiles import ExportSpec
    from nscpy.actions.report import Report

__all__ = ["Migration"]


class Migration(StoreBase):
    """Imports of JWTs and seeds, exports of seeds, and reissuing an operator."""

    def import_operator(self, token: str, *, force: bool = False) -> Saved:
        """Add an operator from its JWT (force: replace one of the same name)."""
        from nscpy.actions.operators import import_operator

        return self._write(lambda: import_operator(self.workspace, token, force=force))

    def import_account(
        self, operator: str, file: str | Path, *, overwrite: bool = False, force: bool = False
    ) -> Report:
        """Store an account JWT file issued by the operator (force: re-sign one from another)."""
        from nscpy.actions.importing import ImportAccount, import_account

        spec = ImportAccount(
            Path(file), operator=self._operator(operator), overwrite=overwrite, force=force
        )
        return self._write(lambda: import_account(self.workspace, spec))

    def import_user(self, operator: str, file: str | Path, *, overwrite: bool = False) -> Report:
        """Store a user JWT or creds file (with its seed, if the file has one)."""
        from nscpy.actions.importing import ImportUser, import_user

        spec = ImportUser(Path(file), operator=self._operator(operator), overwrite=overwrite)
        return self._write(lambda: import_user(self.workspace, spec))

    def import_keys(self, directory: str | Path, *, recurse: bool = False) -> Report:
        """Store every seed found in the directory's .nk files."""
        from nscpy.actions.keyfiles import import_keys

        return self._write(lambda: import_keys(self.workspace, Path(directory), recurse=recurse))

    def put_seed(self, seed: str) -> str:
        """Keep a seed in the keystore (`generate nkey --store`); returns where: a file path,
        or "in the OS keyring"."""
        from nscpy.actions.keyfiles import store_seed

        return self._write(lambda: store_seed(self.workspace, seed))

    def export_keys(self, spec: ExportSpec) -> Report:
        """Copy seeds (and with spec.include_jwts their JWTs) to spec.directory."""
        from nscpy.actions.keyfiles import export_keys

        return self._write(lambda: export_keys(self.workspace, spec))

    def reissue_operator(
        self, operator: str, *, key: str | None = None, convert_to_signing_key: bool = False
    ) -> list[Saved]:
        """A new operator identity (a new key, or `key`); accounts are re-signed unless the old
        key stays as a signing key."""
        from nscpy.actions.reissue import reissue_operator

        name = self._operator(operator)
        return self._write(
            lambda: reissue_operator(
                self.workspace, name, key=key, convert_to_signing_key=convert_to_signing_key
            )
        )
