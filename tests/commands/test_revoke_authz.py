"""Revocations as the server reads them, and parallel account edits that lose nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nscpy import keys
from nscpy.jwt import AccountClaims, UserClaims, decode, peek

from .cliutil import REPO, ok, run


def _home(tmp_path: Path) -> tuple[str, str]:
    home = str(tmp_path / "nsc")
    ok("-H", home, "add", "operator", "-n", "O", "--sys")
    ok("-H", home, "add", "account", "-n", "A")
    ok("-H", home, "add", "account", "-n", "B")
    ok("-H", home, "add", "user", "-a", "A", "-n", "u")
    return "-H", home


def _account(h: tuple[str, str], name: str) -> AccountClaims:
    claims = decode((Path(h[1]) / "O/accounts" / name / f"{name}.jwt").read_text())
    assert isinstance(claims, AccountClaims)
    return claims


def test_user_revocations_add_list_delete(tmp_path: Path) -> None:
    h = _home(tmp_path)
    u = peek((Path(h[1]) / "O/accounts/A/users/u.jwt").read_text()).subject
    stranger = keys.create_pair(keys.Prefix.USER).public_key
    out = ok(*h, "revoke", "user", "-a", "A", "-n", "u", "--at", "1000", "--json")
    assert json.loads(out) == {"public_key": u, "at": 1000, "name": "u"}
    # a later cut-off replaces an earlier one; an earlier one never moves it back
    ok(*h, "revocations", "add-user", "-a", "A", "-u", "u", "--at", "2030-01-01T00:00:00Z")
    ok(*h, "revocations", "add-user", "-a", "A", "-u", "u", "--at", "5")
    ok(*h, "revocations", "add-user", "-a", "A", "-u", stranger, "--at", "7")
    ok(*h, "revoke", "user", "-a", "A", "*", "--at", "9")
    acct = _account(h, "A")
    assert dict(acct.revocations) == {u: 1893456000, stranger: 7, "*": 9}
    user = decode((Path(h[1]) / "O/accounts/A/users/u.jwt").read_text())
    assert isinstance(user, UserClaims) and acct.is_claim_revoked(user)
    listed = json.loads(ok(*h, "revocations", "list-users", "-a", "A", "--json"))
    # sorted by key: "*" first, then the two random user keys in byte order
    assert listed == sorted(
        [
            {"public_key": "*", "at": 9, "name": ""},
            {"public_key": stranger, "at": 7, "name": ""},
            {"public_key": u, "at": 1893456000, "name": "u"},
        ],
        key=lambda r: str(r["public_key"]),
    )
    table = ok(*h, "revocations", "list-users", "-a", "A")
    # nsc's table: its title and column, RFC 1123 times
    assert "Revoked Users for A" in table and "│ Public Key " in table
    assert "│ Revoke Credentials Before     │" in table
    assert f"│ {u} │ Tue, 01 Jan 2030 00:00:00 UTC │" in table
    assert "│ * [All Users] " in table
    ok(*h, "revocations", "delete-user", "-a", "A", "-u", "*")
    ok(*h, "revocations", "delete-user", "-a", "A", "-n", "u")
    assert dict(_account(h, "A").revocations) == {stranger: 7}
    # with one user and no name, that user is chosen (nsc's default)
    ok(*h, "revocations", "add-user", "-a", "A", "--at", "11")
    assert _account(h, "A").revocations[u] == 11


def test_activation_revocations(tmp_path: Path) -> None:
    h = _home(tmp_path)
    ok(*h, "add", "export", "-a", "A", "-s", "priv.>", "-r", "-p")
    b = _account(h, "B").subject
    ok(*h, "revocations", "add-activation", "-a", "A", "-s", "priv.>", "-t", "B", "--at", "50")
    ok(*h, "revocations", "add-activation", "-a", "A", "-s", "priv.>", "--service", "-t", "*",
       "--at", "60")  # fmt: skip
    [export] = _account(h, "A").exports
    assert dict(export.revocations) == {b: 50, "*": 60}
    listed = json.loads(ok(*h, "revocations", "list-activations", "-a", "A", "-s", "priv.>",
                           "--json"))  # fmt: skip
    assert listed == [{"public_key": "*", "at": 60, "name": ""},
                      {"public_key": b, "at": 50, "name": "B"}]  # fmt: skip
    ok(*h, "revocations", "delete-activation", "-a", "A", "-s", "priv.>", "-t", b)
    [export] = _account(h, "A").exports
    assert dict(export.revocations) == {"*": 60}
    # a revoked activation is refused when importing
    token = tmp_path / "act.jwt"
    ok(*h, "generate", "activation", "-a", "A", "-s", "priv.x", "-t", "B", "-o", str(token))
    ok(*h, "revocations", "add-activation", "-a", "A", "-s", "priv.>", "-t", "B")
    code, _, err = run(*h, "add", "import", "-a", "B", "-u", str(token))
    assert code == 1 and "has revoked this activation" in err


@pytest.mark.e2e
def test_parallel_account_edits_lose_nothing(tmp_path: Path) -> None:
    h = _home(tmp_path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "nscpy", *h, "add", "mapping", "-a", "A", "-f", f"m.{n}",
             "-t", f"d.{n}"] if n % 2 else
            [sys.executable, "-m", "nscpy", *h, "revoke", "user", "-a", "A", "-u",
             keys.create_pair(keys.Prefix.USER).public_key, "--at", str(n + 100)],  # 0 = now
            cwd=REPO,
            stderr=subprocess.PIPE,
        )
        for n in range(6)
    ]  # fmt: skip
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    acct = _account(h, "A")
    assert sorted(acct.mappings) == sorted(f"m.{n}" for n in range(1, 6, 2))
    assert sorted(acct.revocations.values()) == list(range(100, 106, 2))
