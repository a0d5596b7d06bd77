"""Click parameter types and shared options: bad input exits 2 with a precise message."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from nscpy.values import InvalidValue, parse_expiry, parse_go_duration, parse_number

F = TypeVar("F", bound=Callable[..., Any])


class _Parsed(click.ParamType[Any, Any]):
    def __init__(self, name: str, parse: Callable[[str], Any]) -> None:
        self.name = name
        self._parse = parse

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        try:
            return self._parse(value)
        except InvalidValue as exc:
            self.fail(str(exc), param, ctx)


class TimeSpec(click.ParamType[Any, str]):
    """--start/--expiry: kept as text, resolved against the run's clock by resolve_time()."""

    name = "time"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            parse_expiry(str(value), 0)
        except InvalidValue as exc:
            self.fail(str(exc), param, ctx)
        return str(value)


class KeySource(click.ParamType[Any, str]):
    """A seed-taking flag (-K, -k, --sk, --curve): '-' reads the value from stdin.

    Seeds then need not sit on the command line (ps, shell history) or on disk. stdin is read
    once per run, so a second '-' in the same command is a usage error. The text is returned
    as read; the action decides whether it is a seed, a key, a file or a role.
    """

    name = "key"
    _USED = "nscpy.stdin_read_by"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value != "-":
            return value
        flag = param.opts[0] if param is not None and param.opts else "this flag"
        meta = ctx.meta if ctx is not None else {}
        if self._USED in meta:
            self.fail(f"stdin was already read for {meta[self._USED]}", param, ctx)
        meta[self._USED] = flag
        text = sys.stdin.read()
        if not text.strip():
            self.fail("'-' means read the key from stdin, but stdin was empty", param, ctx)
        return text.strip()


KEY = KeySource()
DURATION = _Parsed("duration", parse_go_duration)
NUMBER = _Parsed("number", parse_number)
TIME = TimeSpec()


def resolve_time(text: str | None, now: int) -> int:
    """Turn a validated --start/--expiry text into Unix seconds (0 = none)."""
    return parse_expiry(text, now) if text else 0


def optional_time(text: str | None, now: int) -> int | None:
    """resolve_time for edits: None (flag not given) stays None, so the date is left as it is."""
    return None if text is None else resolve_time(text, now)


def one_name(name_opt: str | None, name_arg: str | None) -> str | None:
    """The name given as -n NAME or as the argument; a usage error if both are given and differ."""
    if name_opt and name_arg and name_opt != name_arg:
        raise click.UsageError(f"two names given: {name_opt!r} and {name_arg!r}")
    return name_opt or name_arg


def split_list(values: tuple[str, ...] | list[str] | None) -> list[str]:
    """Repeated and comma-separated values, in order, blanks dropped (pflag StringSlice)."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def permission_options(f: F) -> F:
    """The permission flags shared by add/edit user, add/edit account and edit signing-key."""
    for decl, help_text in reversed(
        [
            ("--allow-pub", "Subjects the user may publish to (comma-separated or repeated)."),
            ("--allow-sub", "Subjects the user may subscribe to ('subject queue' allowed)."),
            ("--allow-pubsub", "Subjects allowed for both publish and subscribe."),
            ("--deny-pub", "Subjects the user may not publish to."),
            ("--deny-sub", "Subjects the user may not subscribe to."),
            ("--deny-pubsub", "Subjects denied for both publish and subscribe."),
        ]
    ):
        f = click.option(decl, multiple=True, metavar="SUBJECTS", help=help_text)(f)
    f = click.option(
        "--allow-pub-response",
        type=int,
        is_flag=False,
        flag_value=1,
        default=None,
        metavar="[N]",
        help="Allow publishing N responses to reply subjects (default 1).",
    )(f)
    f = click.option(
        "--response-ttl", type=DURATION, default=None, help="How long a response may be sent (5s)."
    )(f)
    return f


def start_expiry_options(f: F) -> F:
    """--start and --expiry in nsc's syntax."""
    f = click.option(
        "--expiry",
        type=TIME,
        default=None,
        help="Expiry: 0, YYYY-MM-DD, 'YYYY-MM-DD HH:MM:SS UTC' or relative (30d, 1y).",
    )(f)
    f = click.option(
        "--start", type=TIME, default=None, help="Valid from: same syntax as --expiry."
    )(f)
    return f
