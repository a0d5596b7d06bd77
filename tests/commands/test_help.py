"""`--help` on every command and subcommand, in-process, and what each help page must show.

Click's advice for lazily loaded groups: a test that asks every subcommand for its help finds a
"module:attribute" that no longer resolves before a user does. The walk goes through
nscpy.commands.lazy.LazyGroup exactly as a run does (list_commands, then get_command), so every
lazy module is imported here. Each page must show an "Examples:" section, as nsc's pages do,
and each command must live in the module its name says (nscpy.commands.cli's docstring).
"""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest

from nscpy.commands.cli import cli
from nscpy.commands.lazy import LazyGroup

from .cliutil import run


def _walk(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1] if path else "nscpy")
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, f"'nscpy {' '.join((*path, name))}' does not load"
            yield from _walk(sub, (*path, name))


def _groups(
    command: click.Command, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], LazyGroup]]:
    if isinstance(command, LazyGroup):
        yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name="nscpy")
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            yield from _groups(sub, (*path, name))


COMMANDS = list(_walk(cli, ()))
# `nscpy server` hands every argument, --help too, to server_stub (its argparse page)
PASS_THROUGH = {("server",)}


def test_the_walk_finds_every_group_and_leaf() -> None:
    # a guard on the walk itself: it must reach nested groups' leaves, not stop at the root
    assert ("edit", "signing-key") in COMMANDS
    assert ("rotate", "operator-signing-key", "emergency") in COMMANDS
    assert ("generate", "diagram", "object") in COMMANDS
    assert len(COMMANDS) > 90


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "nscpy")
def test_help_page_loads_and_shows_examples(path: tuple[str, ...]) -> None:
    code, out, err = run(*path, "--help", check_json=False)
    assert code == 0, err
    assert err == ""
    if path in PASS_THROUGH:
        assert out.startswith("usage: python -m server_stub")
        return
    assert out.startswith(f"Usage: nscpy {' '.join(path)}".rstrip())
    assert "\nOptions:\n" in out
    examples = out.split("Examples:\n", 1)
    assert len(examples) == 2, f"'nscpy {' '.join(path)} --help' has no Examples: section"
    first = examples[1].splitlines()[0].strip()
    assert first.startswith(("nscpy ", "cat ")), first


def test_pass_through_command_page_has_examples_too() -> None:
    # the click page of `nscpy server` (shown by `nscpy server` in `nscpy --help`'s listing)
    for path in PASS_THROUGH:
        command = cli
        ctx = click.Context(cli, info_name="nscpy")
        for name in path:
            assert isinstance(command, click.Group)
            found = command.get_command(ctx, name)
            assert found is not None
            command = found
        assert "Examples:" in command.get_help(click.Context(command, info_name=path[-1]))


@pytest.mark.parametrize(
    "path", [p for p, _ in _groups(cli, ())], ids=lambda p: " ".join(p) or "nscpy"
)
def test_aliases_resolve(path: tuple[str, ...]) -> None:
    group = dict(_groups(cli, ()))[path]
    ctx = click.Context(group, info_name="nscpy")
    for alias in group.alias_names:
        assert group.get_command(ctx, alias) is not None, alias
        assert alias not in group.list_commands(ctx)


def _expected_modules(path: tuple[str, ...], name: str) -> set[str]:
    """`nscpy CMD` in CMD.py; `nscpy GROUP SUB` in GROUP.py or GROUP_SUB.py (import: import_)."""
    words = [w.replace("-", "_") for w in (*path, name)]
    if words[0] == "import":
        words[0] = "import_"
    if len(words) == 1:
        return {words[0]}
    return {words[0], f"{words[0]}_{words[1]}"}


def test_each_command_lives_in_the_module_named_after_it() -> None:
    wrong = {}
    for path, group in _groups(cli, ()):
        for name, ref in group.lazy_refs.items():
            module = ref.split(":")[0].removeprefix("nscpy.commands.")
            if module not in _expected_modules(path, name):
                wrong[" ".join((*path, name))] = ref
    assert wrong == {}


def test_spec_from_fills_fields_by_flag_name_and_refuses_a_stray_flag() -> None:
    # params.spec_from is how a command's flags become its action's Spec (flags written once)
    from nscpy.actions.pull import PullSpec
    from nscpy.actions.users import UserSpec
    from nscpy.commands.params import permission_spec, spec_from

    assert spec_from(
        PullSpec, {"account": "A", "all_accounts": False, "overwrite_newer": True}
    ) == (PullSpec("A", False, True))
    flags = {"tags": ["x"], "allow_pub": ["a.>"], "remove": [], "start": "ignored"}
    permissions = permission_spec(flags)
    assert permissions.allow_pub == ["a.>"] and "allow_pub" not in flags
    spec = spec_from(UserSpec, flags, name="u", permissions=permissions, start=5)
    assert (spec.name, spec.tags, spec.start, spec.permissions) == ("u", ["x"], 5, permissions)
    with pytest.raises(TypeError, match="no field for \\['colour'\\]"):
        spec_from(PullSpec, {"colour": "red"})
