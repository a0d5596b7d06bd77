"""`nscpy generate diagram component|object`: PlantUML as nsc writes it, or Mermaid or DOT."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.output import output_path

F = TypeVar("F", bound=Callable[..., Any])


def _common(f: F) -> F:
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(["plantuml", "mermaid", "dot"]),
        default="plantuml",
        show_default=True,
        help="PlantUML (nsc's), Mermaid (renders on GitHub) or Graphviz DOT.",
    )(f)
    return click.option(
        "-o", "--output-file", default="--", help="Write here; '--' (default) is stdout."
    )(f)


def _emit(app: AppContext, graph: Any, fmt: str, output_file: str) -> None:

    from nscpy.actions.diagram import render

    text = render(graph, fmt, app.workspace)
    path = output_path(output_file)
    if path is None:
        click.echo(text, nl=False)
        return
    from nscpy.store.atomic import write_output

    write_output(path, text)  # a pipe or /dev/stdout is written into
    click.echo(f"[ OK ] wrote {fmt} diagram {output_file}", err=True)


@click.group("diagram")
def diagram() -> None:
    """Draw the store: accounts with their exports and imports, or who signed whom."""


@diagram.command("component")
@click.option("--detail", is_flag=True, hidden=True, expose_value=False)
@_common
@pass_app
def component(app: AppContext, /, fmt: str, output_file: str) -> None:
    """Accounts, their exports, and the imports that use them.

    \b
    Examples:
      nscpy generate diagram component -o store.puml
      nscpy generate diagram component --format mermaid
    """
    from nscpy.actions.diagram import component_graph

    _emit(app, component_graph(app.workspace), fmt, output_file)


@diagram.command("object")
@click.option("--users", is_flag=True, help="Include users.")
@click.option("--show-keys", is_flag=True, help="Include keys and whether seeds are stored.")
@click.option("--detail", is_flag=True, hidden=True, expose_value=False)
@_common
@pass_app
def object_(app: AppContext, /, users: bool, show_keys: bool, fmt: str, output_file: str) -> None:
    """The operator, its accounts (and users), and who signed whom.

    \b
    Example:
      nscpy generate diagram object --users --format dot | dot -Tsvg > store.svg
    """
    from nscpy.actions.diagram import object_graph

    _emit(app, object_graph(app.workspace, users=users, show_keys=show_keys), fmt, output_file)
