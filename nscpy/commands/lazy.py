"""A Click group that imports a subcommand's module only when that subcommand runs.

Start-up time is a tracked figure (read commands have a 100 ms budget), so `nscpy list users`
must not pay for importing push/pull or server code. Commands are still registered by name.

nsc (cobra) also answers to spellings that its help does not list: underscore forms
(`revocations add_user`), singular forms (`list account`) and root-level `pub|sub|req|reply`.
`aliases` maps such a spelling to a listed name of the same group or to a "module:attribute";
aliases resolve exactly and are never listed.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

# nsc's persistent `-i/--interactive` is accepted after any subcommand; nscpy never prompts, and
# the root's `-i` says so in its help. Added to each command as it loads (hidden, not passed on).
_INTERACTIVE = click.Option(
    ["-i", "--interactive"],
    is_flag=True,
    hidden=True,
    expose_value=False,
    help="Accepted for nsc compatibility; nscpy never prompts.",
)


class LazyGroup(click.Group):
    """A group whose subcommands are given as {name: "module:attribute"}."""

    def __init__(
        self,
        *args: Any,
        lazy: dict[str, str] | None = None,
        aliases: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = dict(lazy or {})
        self._aliases = dict(aliases or {})

    @property
    def lazy_refs(self) -> dict[str, str]:
        """{listed name: "module:attribute"} (a copy; aliases are not in it)."""
        return dict(self._lazy)

    @property
    def alias_names(self) -> list[str]:
        """The spellings this group also answers to (never listed in help)."""
        return sorted(self._aliases)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self._aliases.get(cmd_name)
        if target is None and "_" in cmd_name and cmd_name.replace("_", "-") in self._lazy:
            target = cmd_name.replace("_", "-")
        if target is not None:
            cmd_name = target
        ref = cmd_name if ":" in cmd_name else self._lazy.get(cmd_name)
        if ref is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = ref.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{ref} is not a click command")
        if not isinstance(command, click.Group) and not any(
            "--interactive" in p.opts for p in command.params
        ):
            command.params.append(_INTERACTIVE)
        return command
