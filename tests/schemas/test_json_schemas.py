"""Every command that offers --json has a schema in nscpy/schemas, and its output matches it.

The scenarios (tests/schemas/scenarios.py) run each command once on a fresh store; beyond them,
tests/commands/cliutil.run checks every --json document any CLI test produces.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from nscpy import schemas
from tests.commands.cliutil import run
from tests.schemas.check import check_output, json_commands, problems
from tests.schemas.scenarios import STEPS

Outputs = dict[str, list[Any]]
SERVER_RUN = {"push", "pull"}


def test_every_json_command_has_a_schema() -> None:
    missing = [" ".join(words) for words in json_commands() if schemas.for_command(words) is None]
    assert missing == [], f"add nscpy/schemas/<words joined by '-'>.json for: {missing}"


def test_every_schema_is_draft_2020_12_and_belongs_to_a_command() -> None:
    from jsonschema import Draft202012Validator

    commands = {schemas.for_command(words) for words in json_commands()}
    for name in schemas.names():
        doc = schemas.load(name)
        Draft202012Validator.check_schema(doc)
        assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert doc["$id"] == f"{schemas.BASE_URI}{name}.json"
        # push and pull need a resolver: tests/schemas/test_server_json.py runs them
        # common: shared parts; spec: the provisioning spec that plan and apply read
        assert name in ("common", "spec") or name in commands, f"{name}.json names no command"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    """Run every scenario step once; {schema name: [parsed --json documents]}."""
    scratch = tmp_path_factory.mktemp("scenarios")
    home = scratch / "nsc"
    found: Outputs = {}
    for words, argv in STEPS:
        if words == "describe jwt" or words.startswith("import"):
            account = home / "demo" / "accounts" / "B"
            (scratch / "user.jwt").write_text((account / "users" / "bob.jwt").read_text())
            (scratch / "acct.jwt").write_text((account / "B.jwt").read_text())
        args = [
            a.format(dir=scratch, user_jwt=scratch / "user.jwt", acct_jwt=scratch / "acct.jwt")
            for a in argv
        ]
        code, out, err = run("-H", str(home), *words.split(), *args, "--json", check_json=False)
        assert code == 0, f"nscpy {words} {' '.join(args)} -> {code}: {err}"
        found.setdefault(str(schemas.for_command(words)), []).append(json.loads(out))
    return found


@pytest.mark.parametrize("words", [" ".join(w) for w in json_commands()])
def test_json_output_matches_its_schema(words: str, outputs: Outputs) -> None:
    name = str(schemas.for_command(words))
    if name in SERVER_RUN:
        pytest.skip(f"`{words} --json` needs a resolver: tests/schemas/test_server_json.py runs it")
    if name not in outputs:
        pytest.skip(
            f"no scenario runs `{words} --json` here (add one to tests/schemas/scenarios.py); "
            "tests/commands/cliutil.run checks it wherever another test runs it"
        )
    for document in outputs[name]:
        assert problems(name, document) == []


def test_a_drifted_output_fails(outputs: Outputs) -> None:
    user = outputs["describe-user"][0]
    assert problems("describe-user", user) == []
    renamed = copy.deepcopy(user)
    renamed["nats"]["subscriptions"] = renamed["nats"].pop("subs")
    assert any("subscriptions" in p for p in problems("describe-user", renamed))
    saved = copy.deepcopy(outputs["add-user"][0])
    del saved[0]["creds"]
    assert any("'creds' is a required property" in p for p in problems("add-user", saved))
    saved[0]["creds"] = 7
    assert problems("add-user", saved) != []
    revocation = dict(outputs["revoke-user"][0], at="yesterday")
    assert problems("revoke-user", revocation) != []
    with pytest.raises(AssertionError, match="drifted from list-users.json"):
        check_output(["list", "users", "--json"], json.dumps([{"name": "u"}]))


def test_output_that_is_not_the_document_is_not_checked(tmp_path: Path) -> None:
    # describe --field prints one value, not the claims document
    check_output(["describe", "user", "-J", "-F", "nats.subs"], "-1")
