"""apply under a strict operator: the one signer rule (nscpy.actions.signers) picks signing keys."""

from __future__ import annotations

import json
from pathlib import Path

from tests.commands.cliutil import ok

SPEC = """
[operator]
name = "STRICT"
signing_keys = ["generate"]
strict = true
system_account = "SYS"

[accounts.SYS]
signing_keys = ["generate"]

[accounts.APP]
signing_keys = ["generate", { role = "svc", allow_pub = ["svc.>"] }]

[accounts.APP.users.alice]
allow_pub = ["orders.>"]

[accounts.APP.users.bot]
role = "svc"
"""


def test_apply_under_a_strict_operator_signs_with_signing_keys(tmp_path: Path) -> None:
    spec = tmp_path / "spec.toml"
    spec.write_text(SPEC)
    h = ("-H", str(tmp_path / "store"))
    ok(*h, "apply", str(spec), "--yes")
    op = json.loads(ok(*h, "describe", "operator", "--json"))
    app = json.loads(ok(*h, "describe", "account", "APP", "--json"))
    alice = json.loads(ok(*h, "describe", "user", "-a", "APP", "alice", "--json"))
    bot = json.loads(ok(*h, "describe", "user", "-a", "APP", "bot", "--json"))
    assert app["iss"] in op["nats"]["signing_keys"] and app["iss"] != op["sub"]
    assert alice["iss"] != app["sub"] and alice["nats"]["issuer_account"] == app["sub"]
    scoped = [k for k in app["nats"]["signing_keys"] if isinstance(k, dict)]
    assert bot["iss"] == scoped[0]["key"]
    report = ok(*h, "validate", "-A")  # exits 0: strict mode is satisfied everywhere
    assert report.count("No issues found") == 4, report
