"""describe user's table decodes the stored JWT as a user JWT: another kind there is refused."""

from __future__ import annotations

from pathlib import Path

from .cliutil import ok, run


def test_a_stored_user_file_holding_another_kind_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "nsc"
    h = ("-H", str(home))
    ok(*h, "init", "-n", "demo")
    assert "User" in ok(*h, "describe", "user", "-a", "demo", "demo")
    account_jwt = (home / "demo/accounts/demo/demo.jwt").read_text()
    (home / "demo/accounts/demo/users/demo.jwt").write_text(account_jwt)
    code, out, err = run(*h, "describe", "user", "-a", "demo", "demo")
    assert (code, out) == (1, "")
    assert err == "nscpy: error: the token is an account JWT, not a user JWT\n"
