"""Validating `--json` output against nscpy/schemas, and finding the commands that offer it."""

from __future__ import annotations

import functools
import json
from typing import Any

import click

from nscpy import schemas
from nscpy.commands.cli import cli

# flags after which the output is not the command's JSON document (one field, raw JWT, a file)
NOT_THE_DOCUMENT = frozenset({"-F", "--field", "-R", "--raw", "-o", "--output-file"})


def _tree() -> dict[tuple[str, ...], click.Command]:
    found: dict[tuple[str, ...], click.Command] = {}

    def walk(cmd: click.Command, words: tuple[str, ...], ctx: click.Context) -> None:
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None:
                    walk(sub, (*words, name), ctx)
        else:
            found[words] = cmd

    walk(cli, (), click.Context(cli))
    return found


@functools.cache
def commands() -> dict[tuple[str, ...], click.Command]:
    """Every leaf command of the CLI by its words."""
    return _tree()


def json_flags(cmd: click.Command) -> tuple[str, ...]:
    """The spellings of the command's --json option (empty if it has none)."""
    for p in cmd.params:
        if isinstance(p, click.Option) and "--json" in p.opts:
            return (*p.opts, *p.secondary_opts)
    return ()


def json_commands() -> list[tuple[str, ...]]:
    """Words of every command that offers --json, sorted."""
    return sorted(words for words, cmd in commands().items() if json_flags(cmd))


def command_words(argv: tuple[str, ...] | list[str]) -> tuple[str, ...] | None:
    """The command an argv runs (global options skipped), if it names one."""
    leaves = commands()
    for start in range(len(argv)):
        for end in range(len(argv), start, -1):
            words = tuple(argv[start:end])
            if words in leaves:
                return words
    return None


@functools.cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry: Registry[Any] = Registry()
    for other in schemas.names():
        doc = schemas.load(other)
        registry = registry.with_resource(doc["$id"], Resource.from_contents(doc))
    schema = schemas.load(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry)


def problems(name: str, data: Any) -> list[str]:
    """Every way data departs from the schema, one line each (empty: valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in _validator(name).iter_errors(data)
    ]


def check_output(argv: tuple[str, ...] | list[str], stdout: str) -> None:
    """AssertionError if argv asked a command for --json and stdout is not valid for it."""
    words = command_words(argv)
    if words is None:
        return
    flags = json_flags(commands()[words])
    if not any(a in flags for a in argv) or NOT_THE_DOCUMENT.intersection(argv):
        return
    name = schemas.for_command(words)
    assert name is not None, (
        f"no schema {schemas.name_for(words)}.json for `{' '.join(words)} --json`"
    )
    found = problems(name, json.loads(stdout))
    assert not found, f"`{' '.join(argv)}` drifted from {name}.json:\n" + "\n".join(found)
