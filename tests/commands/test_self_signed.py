"""nsc's decentralized flow: with only the operator's JWT, a new account signs itself."""

from __future__ import annotations

import json
from pathlib import Path

from nscpy import keys
from tests.commands.cliutil import ok, run


def _team(tmp_path: Path) -> tuple[str, ...]:
    op = ("-H", str(tmp_path / "op"))
    ok(*op, "add", "operator", "-n", "O")
    (tmp_path / "o.jwt").write_text(ok(*op, "describe", "operator", "--raw"))
    team = ("-H", str(tmp_path / "team"))
    ok(*team, "add", "operator", "-u", str(tmp_path / "o.jwt"))
    return team


def test_no_operator_key_means_self_signed_with_a_warning(tmp_path: Path) -> None:
    team = _team(tmp_path)
    out = ok(*team, "add", "account", "-n", "A")
    assert "[WARN] self-signed: no key of operator 'O' is in this keystore" in out
    claims = json.loads(ok(*team, "describe", "account", "A", "--json"))
    assert claims["iss"] == claims["sub"]


def test_an_account_given_by_public_key_cannot_sign_itself(tmp_path: Path) -> None:
    team = _team(tmp_path)
    public_key = keys.create_pair(keys.Prefix.ACCOUNT).public_key
    code, _, err = run(*team, "add", "account", "-n", "A", "-k", public_key)
    assert code == 1 and "cannot sign itself: pass an operator key with -K" in err
    assert "A" not in ok(*team, "list", "accounts")


def test_a_stored_operator_key_always_signs(tmp_path: Path) -> None:
    h = ("-H", str(tmp_path))
    ok(*h, "add", "operator", "-n", "O")
    out = ok(*h, "add", "account", "-n", "A")
    assert "self-signed" not in out
    op = json.loads(ok(*h, "describe", "operator", "--json"))
    assert json.loads(ok(*h, "describe", "account", "A", "--json"))["iss"] == op["sub"]


def test_init_from_an_operator_jwt(tmp_path: Path) -> None:
    op = ("-H", str(tmp_path / "op"))
    ok(*op, "add", "operator", "-n", "O")
    (tmp_path / "o.jwt").write_text(ok(*op, "describe", "operator", "--raw"))
    team = ("-H", str(tmp_path / "team"))
    out = ok(*team, "init", "-u", str(tmp_path / "o.jwt"), "-n", "dev")
    assert "added account 'dev'" in out and "self-signed" in out
    assert (tmp_path / "team" / "creds" / "O" / "dev" / "dev.creds").is_file()


def test_well_known_operators_need_their_variable(tmp_path: Path) -> None:
    for argv in (("init", "-o", "synadia"), ("add", "operator", "-u", "synadia")):
        code, _, err = run("-H", str(tmp_path), *argv)
        assert code == 1 and "set NSC_SYNADIA_OPERATOR=http(s)://" in err
        assert err.count("\n") == 1
    assert not (tmp_path / "synadia").exists()
