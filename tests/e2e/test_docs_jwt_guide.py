"""The JWT guide's decentralized flow (nats.docs running-a-nats-service/nats_admin/jwt.md):
an operator environment and a team environment that holds only the operator's JWT, replayed in
nsc's spellings on nats-server 2.15.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.commands.cliutil import ok
from tests.support.cli_e2e import roundtrip
from tests.support.natsserver import free_port, serve_config

pytestmark = pytest.mark.e2e


def test_team_account_is_self_signed_then_imported_by_the_operator(tmp_path: Path) -> None:
    def operator_env(*argv: str) -> str:
        return ok("-H", str(tmp_path / "operator"), *argv)

    def team_env(*argv: str) -> str:
        return ok("-H", str(tmp_path / "team"), *argv)

    port = free_port()
    operator_env("add", "operator", "-n", "DEMO", "--sys")
    operator_env("edit", "operator", "--account-jwt-server-url", f"nats://127.0.0.1:{port}")
    # "Import Operator - Non Operator/Administrator Environment"
    (tmp_path / "operator.jwt").write_text(operator_env("describe", "operator", "--raw"))
    team_env("add", "operator", "-u", str(tmp_path / "operator.jwt"))
    # "Export Account - Decentralized": the team's account signs itself
    out = team_env("add", "account", "-n", "ACC")
    assert "self-signed" in out
    acc = json.loads(team_env("describe", "account", "-n", "ACC", "--json"))
    assert acc["iss"] == acc["sub"]
    (tmp_path / "import.jwt").write_text(team_env("describe", "account", "-n", "ACC", "--raw"))
    operator_env("import", "account", "--file", str(tmp_path / "import.jwt"))
    imported = json.loads(operator_env("describe", "account", "-n", "ACC", "--json"))
    op = json.loads(operator_env("describe", "operator", "--json"))
    assert imported["sub"] == acc["sub"] and imported["iss"] == op["sub"]
    # the operator may now edit it, and pushes it
    operator_env("edit", "account", "ACC", "--conns", "10")
    (tmp_path / "resolver.conf").write_text(operator_env("generate", "config", "--nats-resolver"))
    with serve_config(tmp_path / "resolver.conf", port=port) as server:
        operator_env("push", "-A")
        # the team issues its own users with the account key it kept
        team_env("add", "user", "-a", "ACC", "-n", "dev", "--allow-pub", "t.>",
                 "--allow-sub", "t.>")  # fmt: skip
        creds = tmp_path / "team" / "creds" / "DEMO" / "ACC" / "dev.creds"
        assert roundtrip(server.url, str(creds), "t.1") == b"hi"
