"""`nscpy export spec`: the store as a provisioning spec (TOML; never a seed)."""

from __future__ import annotations

import click

from nscpy.commands.context import AppContext, pass_app


@click.command("spec")
@click.option("-o", "--output-file", "output", help="Write here instead of stdout ('-' = stdout).")
@click.option("--operator", help="Operator to export (default: the current one).")
@pass_app
def export_spec(app: AppContext, /, output: str | None, operator: str | None) -> None:
    """Write the store as a spec that 'nscpy apply' converges a store to."""
    from nscpy.actions.export_spec import export_spec as run
    from nscpy.actions.export_spec import spec_to_toml
    from nscpy.commands.output import output_path

    text = spec_to_toml(run(app.workspace, operator))
    path = output_path(output)
    if path is None:
        click.echo(text, nl=False)
        return
    from nscpy.store.atomic import atomic_write

    atomic_write(path, text, mode=0o644)
