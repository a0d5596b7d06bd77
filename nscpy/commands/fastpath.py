"""A click-free fast path for the hottest read commands, taken before click is imported.

Start-up time of `nscpy describe user --json` is a tracked figure (100 ms median); the
interpreter takes ~40 ms of it here and importing click ~50 ms more. So the console script
(nscpy.commands.entry) first offers argv to run(): it accepts only the plain forms of
`describe operator|account|user` (the root directory options, -n/--name, -a/--account, NAME,
-J/--json, -R/--raw, -F/--field) and prints exactly what the click command prints, computed
by the same functions (nscpy.commands.describe_text). Anything else -- --help, -o, an unknown or
combined flag, any error at all -- returns None and the click CLI runs instead, so messages,
exit codes and every other behaviour come from one place. Reads have no side effects, so
running the click command after a failed attempt here changes nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["run"]

# root options that take a value, with the environment variable click reads for each
_ROOT_OPTIONS = {
    "--config-dir": ("config_dir", "NSCPY_CONFIG_DIR"),
    "--data-dir": ("data_dir", "NSCPY_DATA_DIR"),
    "--keystore-dir": ("keystore_dir", "NSCPY_KEYSTORE_DIR"),
    "-H": ("all_dirs", None),
    "--all-dirs": ("all_dirs", None),
}
_VALUE_OPTIONS = {
    "-n": "name",
    "--name": "name",
    "-a": "account",
    "--account": "account",
    "-F": "field",
    "--field": "field",
}
_FLAGS = {"-J": "json", "--json": "json", "-R": "raw", "--raw": "raw"}
_KINDS = ("operator", "account", "user")


def _split(arg: str) -> tuple[str, str | None]:
    """'--name=x' -> ('--name', 'x'); anything else -> (arg, None)."""
    if arg.startswith("--") and "=" in arg:
        name, _, value = arg.partition("=")
        return name, value
    return arg, None


def _parse(argv: Sequence[str]) -> tuple[dict[str, str | None], str, dict[str, str | None]] | None:
    """(root options, kind, describe options) for the forms handled here; None otherwise."""
    root: dict[str, str | None] = {}
    args = list(argv)
    while args and args[0].startswith("-"):
        name, value = _split(args.pop(0))
        if name not in _ROOT_OPTIONS:
            return None
        if value is None:
            if not args:
                return None
            value = args.pop(0)
        if value.startswith("-"):
            return None
        root[_ROOT_OPTIONS[name][0]] = value
    if len(args) < 2 or args[0] != "describe" or args[1] not in _KINDS:
        return None
    kind, rest = args[1], args[2:]
    options: dict[str, str | None] = {}
    while rest:
        arg = rest.pop(0)
        name, value = _split(arg)
        if name in _FLAGS and value is None:
            options[_FLAGS[name]] = "1"
        elif name in _VALUE_OPTIONS:
            if _VALUE_OPTIONS[name] == "account" and kind != "user":
                return None
            if value is None:
                if not rest:
                    return None
                value = rest.pop(0)
            if value.startswith("-"):
                return None
            options[_VALUE_OPTIONS[name]] = value
        elif arg.startswith("-") or "positional" in options:
            return None  # --help, -o, combined flags, "--", a second NAME: click's business
        else:
            options["positional"] = arg
    for attr, envvar in _ROOT_OPTIONS.values():
        if envvar and attr not in root:
            root[attr] = os.environ.get(envvar) or None  # click ignores empty variables
    return root, kind, options


def run(argv: Sequence[str]) -> int | None:
    """Run a plain `describe` command and return its exit code, or None to let click run."""
    if os.environ.get("NSCPY_STORE"):
        return None  # a KV store: the network dominates, and its errors belong to click's path
    parsed = _parse(argv)
    if parsed is None or (sys.stdout.encoding or "").lower().replace("-", "") != "utf8":
        return None
    root, kind, options = parsed
    try:
        from nscpy.actions.workspace import Workspace
        from nscpy.commands.describe_text import LOADERS, render

        ws = Workspace.open(
            config_dir=root.get("config_dir"),
            data_dir=root.get("data_dir"),
            keystore_dir=root.get("keystore_dir"),
            all_dirs=root.get("all_dirs"),
        )
        token = LOADERS[kind](
            ws, options.get("name") or options.get("positional"), options.get("account")
        )
        text = render(
            token,
            kind,
            as_json="json" in options,
            raw="raw" in options,
            field_path=options.get("field"),
            to_file=False,
            ws=ws,
            account=options.get("account"),
        )
    except Exception:  # noqa: BLE001 - every failure is reported by the click command instead
        return None
    if "\x1b" in text:
        return None  # click.echo strips ANSI escapes when stdout is not a terminal
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return 0
