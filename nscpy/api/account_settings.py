"""Account settings beyond limits: subject mappings, the auth callout, export edits, and
clearing activation revocations. Each is one call into nscpy.actions inside a transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nscpy.api.base import StoreBase

if TYPE_CHECKING:
    from nscpy.actions.authcallout import AuthCalloutEdit
    from nscpy.actions.entities import Saved
    from nscpy.actions.exports import ExportChange
    from nscpy.actions.revocations import Revocation

__all__ = ["AccountSettings"]


class AccountSettings(StoreBase):
    """Mappings, auth callout, export edits and activation revocation clears."""

    def edit_export(
        self,
        operator: str,
        account: str,
        subject: str,
        change: ExportChange,
        *,
        new_subject: str | None = None,
    ) -> Saved:
        """Change the export found by its subject (ExportChange: service, private, latency...)."""
        from nscpy.actions.exports import edit_export

        name = self._account(operator, account)
        return self._write(
            lambda: edit_export(
                self.workspace, name, subject, change, new_subject=new_subject, operator=operator
            )
        )

    def add_mapping(
        self,
        operator: str,
        account: str,
        source: str,
        destination: str,
        *,
        weight: int = 100,
        cluster: str = "",
    ) -> Saved:
        """Map subject `source` to `destination` (weighted, optionally per cluster)."""
        from nscpy.actions.mappings import add_mapping

        name = self._account(operator, account)
        return self._write(
            lambda: add_mapping(
                self.workspace,
                name,
                source,
                destination,
                weight=weight,
                cluster=cluster,
                operator=operator,
            )
        )

    def delete_mapping(
        self,
        operator: str,
        account: str,
        source: str,
        destination: str | None = None,
        *,
        cluster: str | None = None,
    ) -> Saved:
        """Remove the mapping of `source` (one destination, or all)."""
        from nscpy.actions.mappings import delete_mapping

        name = self._account(operator, account)
        return self._write(
            lambda: delete_mapping(
                self.workspace, name, source, destination, cluster=cluster, operator=operator
            )
        )

    def edit_authcallout(self, operator: str, account: str, edit: AuthCalloutEdit) -> Saved:
        """Configure (or with edit.disable, remove) the account's auth callout."""
        from nscpy.actions.authcallout import edit_authcallout

        name = self._account(operator, account)
        return self._write(lambda: edit_authcallout(self.workspace, name, edit, operator=operator))

    def clear_activation_revocation(
        self, operator: str, account: str, subject: str, target: str
    ) -> Revocation:
        """Remove the activation revocation of `target` (an account or "*") from an export."""
        from nscpy.actions.revocations import clear_activation_revocation

        name = self._account(operator, account)
        return self._write(
            lambda: clear_activation_revocation(
                self.workspace, name, subject, target, operator=operator
            )
        )
