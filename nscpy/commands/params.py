"""Click parameter types and shared options: bad input exits 2 with a precise message."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from nscpy.values import InvalidValue, parse_expiry, parse_go_duration, parse_number

F = TypeVar("F", bound=Callable[..., Any])
S = TypeVar("S")


def spec_from(spec_type: type[S], flags: dict[str, Any], /, **computed: Any) -> S:
    """The Spec a command hands its action, built from the command's flags by name.

    A flag is written once: its Python name (the option's dest) is the Spec field it fills, so
    the command takes **flags instead of one parameter per flag. `computed` fills the fields
    that need more than the flag's value (a time resolved against the run's clock, a file
    read); it replaces the flag of the same name. A flag that names no field is a mistake in
    the command, reported at once instead of silently dropped.
    """
    from dataclasses import fields

    values = {**flags, **computed}
    unknown = set(values) - {f.name for f in fields(spec_type)}  # type: ignore[arg-type]
    if unknown:
        raise TypeError(f"{spec_type.__name__} has no field for {sorted(unknown)}")
    return spec_type(**values)


def take(spec_type: type[S], flags: dict[str, Any], /, **computed: Any) -> S:
    """Like spec_from, for a Spec nested in the command's main one: it takes (removes) the
    flags that name its fields and leaves the rest."""
    from dataclasses import fields

    names = {f.name for f in fields(spec_type)}  # type: ignore[arg-type]
    return spec_from(spec_type, {n: flags.pop(n) for n in list(flags) if n in names}, **computed)


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
    """The permission flags shared by add/edit user, add/edit account and edit signing-key
    (PermissionSpec's fields, by name)."""
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
        f = list_option(decl, metavar="SUBJECTS", help=help_text)(f)
    f = click.option(
        "--allow-pub-response",
        "response_max",
        type=int,
        is_flag=False,
        flag_value=1,
        default=None,
        metavar="[N]",
        help="Allow publishing N responses to reply subjects (default 1).",
    )(f)
    f = click.option(
        "--response-ttl",
        "response_ttl_ns",
        type=DURATION,
        default=None,
        help="How long a response may be sent (5s).",
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


def optional_bool(decl: str, help_text: str) -> Callable[[F], F]:
    """A flag that may also be given a value: --flag, --flag=false (pflag bool semantics)."""
    return click.option(
        decl, type=click.BOOL, is_flag=False, flag_value=True, default=None, help=help_text
    )


def account_option(f: F) -> F:
    """-a/--account and -K/--private-key (the signer), shared by every account edit."""
    f = click.option(
        "-K", "--private-key", "signer", type=KEY, help="Key to sign with (seed/pub/file)."
    )(f)
    return click.option("-a", "--account", help="Account name or public key (default: current).")(f)


def list_option(*decls: str, **kw: Any) -> Callable[[F], F]:
    """A repeatable flag whose value is the list split_list makes (a Spec's list[str] field)."""
    return click.option(*decls, multiple=True, callback=lambda _c, _p, v: split_list(v), **kw)


def tag_options(f: F) -> F:
    """--tag / --rm-tag (the Spec fields tags and rm_tags)."""
    f = list_option("--rm-tag", "rm_tags", help="Tags to remove.")(f)
    return list_option("--tag", "tags", help="Tags to add (lower-cased).")(f)


def rm_permission_options(f: F) -> F:
    """--rm SUBJECTS and --rm-response-perms, beside the permission flags."""
    f = click.option(
        "--rm-response-perms",
        "remove_response",
        is_flag=True,
        help="Remove the response permission.",
    )(f)
    return list_option("--rm", "remove", metavar="SUBJECTS", help="Subjects to remove.")(f)


def permission_spec(flags: dict[str, Any]) -> Any:
    """The PermissionSpec of the permission flags (and --rm flags), taken out of flags."""
    from nscpy.actions.permspec import PermissionSpec

    return take(PermissionSpec, flags)


class SamplingType(click.ParamType[Any, Any]):
    """--sampling: 1..100 percent, or 'headers' (sample requests carrying trace headers)."""

    name = "1-100|headers"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value).strip().lower()
        if text in ("header", "headers"):
            return 0
        if text.isdigit() and 0 <= int(text) <= 100:
            return int(text)
        self.fail(f"{value!r} is not a sampling rate: use 1..100 or 'headers'", param, ctx)


SAMPLING = SamplingType()


def export_options(f: Any) -> Any:
    """The export settings add and edit export share (ExportChange's fields, by name)."""
    f = click.option("-n", "--name", default=None, help="Export name (default: the subject).")(f)
    f = click.option("--response-type", type=click.Choice(["Singleton", "Stream", "Chunked"]))(f)
    f = click.option(
        "--response-threshold",
        "response_threshold_ns",
        type=DURATION,
        default=None,
        help="e.g. 5s.",
    )(f)
    f = click.option(
        "--latency", "latency_subject", default=None, help="Subject for service latency results."
    )(f)
    f = click.option("--sampling", type=SAMPLING, default=None, help="1..100 or 'headers'.")(f)
    f = optional_bool("--allow-trace", "Allow message tracing through this service.")(f)
    f = click.option(
        "--account-token-position", "token_position", type=click.IntRange(min=1), default=None
    )(f)
    f = optional_bool("--advertise", "Advertise the export.")(f)
    f = click.option("--description", default=None, help="Description.")(f)
    return click.option("--info-url", default=None, help="Link to more information.")(f)


def export_change(flags: dict[str, Any], **computed: Any) -> Any:
    """The ExportChange of the export_options flags (and any others passed by name)."""
    from nscpy.actions.exports import ExportChange

    return spec_from(ExportChange, flags, **computed)


dir_option = click.option(
    "-d", "--dir", "directory", required=True, type=click.Path(path_type=Path), help="Directory."
)
