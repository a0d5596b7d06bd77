"""The shared KV store (Store.open(store='nats://...?bucket=NAME')): migrating a store in and
out, and seeds shared sealed to another admin's curve key. Each is one call into
nscpy.actions.kvstore (history and watch are reads: nscpy.actions.kvstore.history/watch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from nscpy.api.base import StoreBase

if TYPE_CHECKING:
    from nscpy.actions.kvstore import MigrateReport

__all__ = ["SharedStore"]


class SharedStore(StoreBase):
    """Moving a store between a directory and a KV bucket; sharing seeds sealed."""

    def migrate_store(
        self, source: str, target: str, store_options: Mapping[str, Any] | None = None
    ) -> MigrateReport:
        """Copy every operator from a stores directory to a nats:// store URL or back, byte
        for byte (read back and compared); store_options as Store.open's."""
        from nscpy.actions.kvstore import migrate

        ws = self.workspace
        return migrate(source, target, ws.env, store_options or {}, ws.paths.with_store_root)

    def share_seed(
        self, public_key: str, recipients: Sequence[str], sender: str | None = None
    ) -> list[str]:
        """Put public_key's seed in the KV store sealed (xkv1) to each recipient's curve key,
        from our own curve key (sender, else the only one in the keystore)."""
        from nscpy.actions.kvstore import share_seed

        return share_seed(self.workspace, public_key, list(recipients), sender)

    def open_shared_seed(self, public_key: str, xkey: str | None = None) -> str:
        """Open the seed of public_key sealed to our curve key into the local keystore."""
        from nscpy.actions.kvstore import open_shared_seed

        return self._write(lambda: open_shared_seed(self.workspace, public_key, xkey))
