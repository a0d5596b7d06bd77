"""The --json documents of log, store watch|migrate|shared against nscpy/schemas (jsonschema)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.kvstore.conftest import ok, plain
from tests.support.natsserver import RunningServer

pytestmark = pytest.mark.e2e
jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

SCHEMAS = Path(__file__).resolve().parents[2] / "nscpy" / "schemas"


def _validator(name: str):
    docs = [json.loads(p.read_text()) for p in SCHEMAS.glob("*.json")]
    registry = referencing.Registry().with_resources(
        (doc["$id"], referencing.Resource.from_contents(doc)) for doc in docs
    )
    return jsonschema.Draft202012Validator(
        json.loads((SCHEMAS / name).read_text()), registry=registry
    )


def test_kv_json_documents_follow_their_schemas(tmp_path: Path, js_server: RunningServer) -> None:
    url = f"{js_server.url}?bucket=schemas"
    home = tmp_path / "admin"
    plain(home, "add", "operator", "-n", "O")
    plain(home, "add", "account", "-n", "APP")
    migrated = json.loads(ok(home, url, "store", "migrate", "--from", str(home), "--to", url,
                             "--json"))  # fmt: skip
    _validator("store-migrate.json").validate(migrated)
    ok(home, url, "edit", "account", "-n", "APP", "--conns", "3")
    log = json.loads(ok(home, url, "log", "--json"))
    _validator("log.json").validate(log)
    _validator("log.json").validate(
        json.loads(ok(home, url, "log", "-a", "APP", "--show", str(log[-1]["revision"]), "--json"))
    )
    assert not _validator("log.json").is_valid([{**log[0], "extra": 1}])
    watched = subprocess.run(
        [sys.executable, "-m", "nscpy", "-H", str(home), "--store", url,
         "store", "watch", "--history", "--count", "2", "--json"],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    for line in watched.stdout.splitlines():
        _validator("store-watch.json").validate(json.loads(line))
    plain(home, "generate", "nkey", "--curve", "--store")
    made = json.loads(plain(home, "generate", "nkey", "--curve", "--json"))
    app = json.loads(ok(home, url, "describe", "account", "APP", "--json"))["sub"]
    ok(home, url, "store", "share-key", app, "--to", made["public_key"])
    _validator("store-shared.json").validate(json.loads(ok(home, url, "store", "shared", "--json")))
