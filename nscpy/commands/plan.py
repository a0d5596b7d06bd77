"""`nscpy plan SPEC...`: what apply would change (and, with --against, what the servers lack).

Exit codes: 0 no changes (and no drift), 3 changes or drift pending, 1 error (a bad spec lists
every problem as FILE:LINE:COL), 2 bad usage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.reporting import json_option

if TYPE_CHECKING:
    from nscpy.actions.plan import Change

F = TypeVar("F", bound=Callable[..., Any])

CHANGES_EXIT = 3
"""plan's exit code when apply would change something."""

_MARK = {"create": "+", "update": "~", "delete": "-", "revoke": "-"}
_COLLAPSE = 20


def spec_options(f: F) -> F:
    """SPEC files, -V KEY=VALUE and --vars FILE (shared by plan and apply)."""
    f = click.option(
        "--vars",
        "var_files",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False),
        help="TOML file of variables for ${NAME} (repeatable).",
    )(f)
    f = click.option(
        "-V", "--var", "variables", multiple=True, metavar="KEY=VALUE", help="Set ${KEY}."
    )(f)
    f = click.argument(
        "specs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False)
    )(f)
    return f


def spec_errors(f: F) -> F:
    """Print every problem of a bad spec on its own line (FILE:LINE:COL: ...), exit 1."""
    import functools

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from nscpy.spec.errors import SpecError

        try:
            return f(*args, **kwargs)
        except SpecError as exc:
            for issue in exc.issues:
                click.echo(f"nscpy: error: {issue}", err=True)
            click.get_current_context().exit(1)

    return wrapper  # type: ignore[return-value]


def load(specs: tuple[str, ...], variables: tuple[str, ...], var_files: tuple[str, ...]) -> Any:
    """The parsed spec (a bad spec raises SpecError: one FILE:LINE:COL line per problem)."""
    from pathlib import Path

    from nscpy.actions.spec_files import read_spec

    return read_spec([Path(s) for s in specs], variables, [Path(v) for v in var_files])


def _label(c: Change) -> str:
    return f"{c.account}/{c.name}" if c.account else c.name


def change_lines(changes: list[Change]) -> list[str]:
    """Lines for people; long runs of user creations in one account are summarised."""
    out: list[str] = []
    i = 0
    while i < len(changes):
        c = changes[i]
        j = i
        while (
            j < len(changes)
            and changes[j].kind == "user"
            and changes[j].action == c.action == "create"
            and changes[j].account == c.account
        ):
            j += 1
        if j - i > _COLLAPSE:
            out.append(
                f"+ create {j - i} users in {c.account} "
                f"({changes[i].name} ... {changes[j - 1].name})"
            )
            i = j
            continue
        out.append(f"{_MARK[c.action]} {c.action} {c.kind} {_label(c)}")
        for claim, old, new in c.diff:
            out.append(f"    {claim}: {_short(old)} -> {_short(new)}")
        i += 1
    return out


def _short(value: Any) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False) if value is not None else "(none)"
    return text if len(text) <= 80 else text[:77] + "..."


def summary(changes: list[Change]) -> dict[str, int]:
    """Counts per action."""
    counts = {"create": 0, "update": 0, "delete": 0, "revoke": 0}
    for c in changes:
        counts[c.action] += 1
    return counts


@click.command("plan")
@spec_options
@click.option("--prune", is_flag=True, help="Also plan deleting what the spec no longer names.")
@click.option(
    "--against",
    "url",
    metavar="URL",
    help="Compare with the accounts a live nats-server resolver serves (nats://...).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 60),
    default=1.0,
    show_default=True,
    help="Seconds to collect every server's replies (with --against).",
)
@json_option
@pass_app
@spec_errors
def plan(
    app: AppContext,
    /,
    specs: tuple[str, ...],
    variables: tuple[str, ...],
    var_files: tuple[str, ...],
    prune: bool,
    url: str | None,
    timeout: float,
    as_json: bool,
) -> None:
    """Show what 'apply' would change (exit 0: nothing, 3: changes or drift, 1: error).

    \b
    Examples:
      nscpy plan store.toml
      nscpy plan store.toml --prune --against nats://127.0.0.1:4222 --json
    """
    from nscpy.actions.plan import make_plan

    spec = load(specs, variables, var_files)
    ws = app.workspace
    result = make_plan(ws, spec, prune=prune)
    changes = result.changes()
    drift = None
    if url is not None:
        if not result.operator_exists:
            raise click.UsageError("--against needs the operator in the store: apply first")
        from nscpy.actions.connection import Connection
        from nscpy.actions.drift import read_drift

        drift = read_drift(
            ws, result, Connection(url=url, timeout=timeout, operator=result.operator)
        )
    pending = bool(changes) or (drift is not None and drift.has_drift())
    if as_json:
        from nscpy.commands.output import emit_json

        doc: dict[str, Any] = {
            "operator": result.operator,
            "changed": bool(changes),
            "changes": [c.to_json() for c in changes],
            "summary": summary(changes),
            "unchanged_users": result.unchanged,
        }
        if drift is not None:
            doc["drift"] = drift.to_json()
        emit_json(doc)
    else:
        for line in change_lines(changes):
            click.echo(line)
        if drift is not None:
            for line in drift.lines():
                click.echo(f"! {line}")
        if not pending:
            click.echo("no changes")
        else:
            counts = summary(changes)
            click.echo(
                f"plan: {counts['create']} to create, {counts['update']} to update, "
                f"{counts['delete'] + counts['revoke']} to delete or revoke"
                + (f"; {len(drift.lines())} drift" if drift is not None else "")
            )
    click.get_current_context().exit(CHANGES_EXIT if pending else 0)
