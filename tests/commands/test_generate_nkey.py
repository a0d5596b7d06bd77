"""`nscpy generate nkey` prints a fresh seed and public key of the asked role."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from nscpy import keys
from nscpy.commands.cli import cli


@pytest.mark.parametrize(
    ("flag", "letter"),
    [
        ("--operator", "O"),
        ("--account", "A"),
        ("--user", "U"),
        ("--server", "N"),
        ("--cluster", "C"),
        ("--curve", "X"),
    ],
)
def test_generate_each_role(flag: str, letter: str) -> None:
    result = CliRunner().invoke(cli, ["generate", "nkey", flag])
    assert result.exit_code == 0, result.output
    seed, public = result.output.split()
    assert seed.startswith("S" + letter)
    assert public.startswith(letter)
    assert keys.from_seed(seed).public_key == public


def test_generate_json() -> None:
    result = CliRunner().invoke(cli, ["generate", "nkey", "--account", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["role"] == "account"
    assert keys.from_seed(data["seed"]).public_key == data["public_key"]


def test_generate_without_role_is_usage_error() -> None:
    result = CliRunner().invoke(cli, ["generate", "nkey"])
    assert result.exit_code == 2
    assert "choose a role" in result.output
