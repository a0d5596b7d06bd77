"""`nscpy apply SPEC...`: converge the store to a spec; --push sends accounts to the resolver."""

from __future__ import annotations

import sys
from typing import Any

import click

from nscpy.commands.context import AppContext, pass_app
from nscpy.commands.plan import change_lines, load, spec_errors, spec_options
from nscpy.commands.reporting import json_option

_PROGRESS_MIN = 300
_DEFAULT = "\0operator"


def _check_push(value: str | None) -> str | None:
    if value not in (None, _DEFAULT) and "://" not in str(value):
        raise click.BadParameter(
            f"{value!r} is not a URL (nats://...): write --push=URL, or put SPEC first"
        )
    return value


@click.command("apply")
@spec_options
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--prune", is_flag=True, help="Delete (and revoke) what the spec no longer names.")
@click.option(
    "--push",
    "push_url",
    is_flag=False,
    flag_value=_DEFAULT,
    default=None,
    metavar="[URL]",
    is_eager=True,  # checked before SPECS, which a bare --push would otherwise swallow
    callback=lambda _ctx, _param, value: _check_push(value),
    help="Then push changed or drifted accounts (default URL: the operator's).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 60),
    default=1.0,
    show_default=True,
    help="Seconds to collect every server's replies (with --push).",
)
@click.option("-y", "--yes", is_flag=True, help="Confirm deletions asked for with --prune.")
@json_option
@pass_app
@spec_errors
def apply(
    app: AppContext,
    /,
    specs: tuple[str, ...],
    variables: tuple[str, ...],
    var_files: tuple[str, ...],
    dry_run: bool,
    prune: bool,
    push_url: str | None,
    timeout: float,
    yes: bool,
    as_json: bool,
) -> None:
    """Make the store match the spec: only what differs is re-signed; all or nothing.

    \b
    Examples:
      nscpy apply store.toml --dry-run
      nscpy apply store.toml --prune --yes --push nats://127.0.0.1:4222
    """
    from nscpy.actions.apply import apply_spec
    from nscpy.actions.errors import UsageProblem
    from nscpy.actions.plan import make_plan

    spec = load(specs, variables, var_files)
    ws = app.workspace
    if prune and not dry_run and not yes:
        doomed = [c for c in make_plan(ws, spec, prune=True).changes() if c.action != "create"]
        doomed = [c for c in doomed if c.action in ("delete", "revoke")]
        if doomed:
            raise UsageProblem(
                f"--prune would delete {len(doomed)} entities "
                f"({', '.join(c.name for c in doomed[:5])}{', ...' if len(doomed) > 5 else ''}): "
                "pass --yes to confirm (see them with --dry-run)"
            )
    bar: Any = None
    progress = None
    if not as_json and sys.stderr.isatty() and spec.user_count() >= _PROGRESS_MIN:
        bar = click.progressbar(length=spec.user_count(), label="signing", file=sys.stderr)
        bar.__enter__()

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

    try:
        result = apply_spec(ws, spec, prune=prune, dry_run=dry_run, progress=progress)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if push_url is not None and not dry_run:
        from nscpy.actions.connection import Connection
        from nscpy.actions.drift import push_accounts

        assert result.plan is not None
        conn = Connection(
            url=None if push_url == _DEFAULT else push_url,
            timeout=timeout,
            operator=result.operator,
        )
        changed = {c.name for c in result.changes if c.kind == "account"}
        result.pushed = push_accounts(ws, result.plan, conn, changed, result.deleted_accounts)
    if as_json:
        from nscpy.commands.output import emit_json

        emit_json(result.to_json())
    else:
        for line in change_lines(result.changes):
            click.echo(line)
        if not result.changes:
            click.echo("no changes")
        elif dry_run:
            click.echo(f"dry run: {len(result.changes)} changes, nothing written")
        else:
            click.echo(
                f"applied {len(result.changes)} changes: {result.files_written} files written, "
                f"{result.files_removed} removed"
            )
        if result.pushed is not None:
            for ok, text in result.pushed.lines:
                click.echo(f"{'[ OK ]' if ok else '[ERR ]'} {text}", err=not ok)
    if result.pushed is not None and not result.pushed.ok:
        from nscpy.actions.errors import ActionError

        raise ActionError("the push was refused or incomplete (see the lines above)")
