"""The per-run application context: root options, and the Workspace opened on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from nscpy.actions.workspace import Workspace


@dataclass
class AppContext:
    """Root options; `workspace` resolves the store directories the first time it is asked."""

    config_dir: str | None = None
    data_dir: str | None = None
    keystore_dir: str | None = None
    all_dirs: str | None = None
    keyring: bool | None = None
    interactive: bool = False
    store: str | None = None
    store_options: dict[str, Any] = field(default_factory=dict)
    _workspace: Workspace | None = field(default=None, repr=False)

    @property
    def workspace(self) -> Workspace:
        """The Workspace for this run (opened lazily: --help and generate nkey need none)."""
        if self._workspace is None:
            from nscpy.actions.workspace import Workspace

            self._workspace = Workspace.open(
                config_dir=self.config_dir,
                data_dir=self.data_dir,
                keystore_dir=self.keystore_dir,
                all_dirs=self.all_dirs,
                keyring=self.keyring,
                store=self.store,
                store_options={k: v for k, v in self.store_options.items() if v},
            )
        return self._workspace


pass_app = click.make_pass_decorator(AppContext, ensure=True)
