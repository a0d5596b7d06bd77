"""nscpy/schemas: the spec schema editors use, and the plan/apply --json documents."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from nscpy.actions.export_spec import export_spec
from tests.actions.test_apply import SPEC
from tests.commands.cliutil import ok, run

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SCHEMAS = Path(__file__).resolve().parents[2] / "nscpy" / "schemas"


def _validator(name: str):
    docs = {p.name: json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")}
    registry = referencing.Registry().with_resources(
        (doc["$id"], referencing.Resource.from_contents(doc)) for doc in docs.values()
    )
    return jsonschema.Draft202012Validator(docs[name], registry=registry)


def test_spec_schema_accepts_specs_and_refuses_unknown_keys(make_ws):
    v = _validator("spec.json")
    v.validate(tomllib.loads(SPEC))
    bad = tomllib.loads(SPEC.replace("[accounts.SYS]", "[accounts.SYS]\ncolour = 1"))
    assert not v.is_valid(bad)


def test_spec_schema_accepts_an_exported_store(tmp_path, make_ws):
    from tests.actions.test_export_spec import _cli_store

    _cli_store(str(tmp_path / "nsc"))
    _validator("spec.json").validate(export_spec(make_ws()))


def test_plan_and_apply_json_follow_their_schemas(tmp_path):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    h = ("-H", str(tmp_path / "nsc"))
    code, out, _ = run(*h, "plan", str(spec), "--json")
    assert code == 3
    _validator("plan.json").validate(json.loads(out))
    applied = json.loads(ok(*h, "apply", str(spec), "--json"))
    _validator("apply.json").validate(applied)
    assert applied["changed"] and applied["files_written"] > 0
    spec.write_text(SPEC.replace("conns = 100", "conns = 5"))
    code, out, _ = run(*h, "plan", str(spec), "--json")
    doc = json.loads(out)
    _validator("plan.json").validate(doc)
    assert code == 3 and doc["changes"][0]["diff"] == [
        {"claim": "nats.limits.conn", "old": 100, "new": 5}
    ]
    dry = json.loads(ok(*h, "apply", "--dry-run", str(spec), "--json"))
    _validator("apply.json").validate(dry)
    assert dry["dry_run"] and dry["files_written"] == 0


def _props(schema, *path):
    node = schema
    for part in path:
        node = node["properties"][part] if part != "*" else node["additionalProperties"]
    return set(node["properties"])


def test_spec_schema_names_exactly_the_keys_the_parser_knows():
    from nscpy.spec import reader

    schema = json.loads((SCHEMAS / "spec.json").read_text())
    account = ("accounts", "*")
    assert _props(schema, "operator") == reader.OPERATOR_KEYS
    assert _props(schema, *account) == reader.ACCOUNT_KEYS
    assert _props(schema, *account, "limits") == set(reader.LIMIT_KINDS)
    assert _props(schema, *account, "jetstream") == set(reader.JETSTREAM_KINDS)
    assert _props(schema, *account, "default_permissions") == reader.PERM_KEYS
    assert _props(schema, *account, "users", "*") == reader.USER_KEYS
    users_sets = schema["properties"]["accounts"]["additionalProperties"]["properties"]
    assert set(users_sets["user_sets"]["items"]["properties"]) == reader.USER_SET_KEYS
    assert set(users_sets["exports"]["items"]["properties"]) == reader.EXPORT_KEYS
    assert set(users_sets["imports"]["items"]["properties"]) == reader.IMPORT_KEYS
    scoped = users_sets["signing_keys"]["items"]["oneOf"][1]
    assert set(scoped["properties"]) == reader.SIGNING_KEY_KEYS
