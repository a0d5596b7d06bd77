"""An account or user JWT that does not chain to the store's keys is not
silently re-signed (adopted) by edit, revoke or delete; --adopt says so explicitly."""

from __future__ import annotations

from pathlib import Path

import pytest

from nscpy import keys
from nscpy.jwt import AccountClaims, UserClaims, decode, encode, peek
from tests.commands.cliutil import fingerprint, ok, run


@pytest.fixture
def intruder(home: Path) -> tuple[Path, str]:
    """A user JWT in account demo, signed by another account's key."""
    stranger = keys.create_pair(keys.Prefix.ACCOUNT)
    user = UserClaims.new(keys.create_pair(keys.Prefix.USER).public_key)
    user.name = "intruder"
    path = home / "demo/accounts/demo/users/intruder.jwt"
    path.write_text(encode(user, stranger, iat=1_700_000_000))
    return home, stranger.public_key


@pytest.fixture
def foreign(home: Path) -> Path:
    """An account JWT named 'foreign', issued by another operator, with one user."""
    other_op = keys.create_pair(keys.Prefix.OPERATOR)
    acct_pair = keys.create_pair(keys.Prefix.ACCOUNT)
    acct = AccountClaims.new(acct_pair.public_key)
    acct.name = "foreign"
    d = home / "demo/accounts/foreign"
    (d / "users").mkdir(parents=True)
    (d / "foreign.jwt").write_text(encode(acct, other_op, iat=1_700_000_000))
    user = UserClaims.new(keys.create_pair(keys.Prefix.USER).public_key)
    user.name = "u"
    (d / "users/u.jwt").write_text(encode(user, acct_pair, iat=1_700_000_000))
    return home


def test_validate_flags_then_edit_user_refuses(intruder: tuple[Path, str]) -> None:
    home, stranger = intruder
    code, out, _ = run("-H", str(home), "validate", "-a", "demo")
    assert code == 1 and "intruder" in out
    before = fingerprint(home)
    code, _, err = run(
        "-H", str(home), "edit", "user", "-a", "demo", "-n", "intruder", "--tag", "x"
    )
    assert code == 1 and stranger in err and "--adopt" in err
    assert fingerprint(home) == before


def test_edit_user_adopt_takes_it_over(intruder: tuple[Path, str]) -> None:
    home, _ = intruder
    ok("-H", str(home), "edit", "user", "-a", "demo", "-n", "intruder", "--tag", "x", "--adopt")
    account_key = peek((home / "demo/accounts/demo/demo.jwt").read_text()).subject
    token = (home / "demo/accounts/demo/users/intruder.jwt").read_text()
    assert peek(token).issuer == account_key
    ok("-H", str(home), "validate", "-a", "demo")


@pytest.mark.parametrize(
    "argv",
    [
        ["edit", "account", "foreign", "--tag", "x"],
        ["revoke", "user", "-a", "foreign", "-n", "u"],
        ["revocations", "add-user", "-a", "foreign", "-u", "*"],
        ["add", "export", "-a", "foreign", "--subject", "s.>"],
        ["edit", "user", "-a", "foreign", "-n", "u", "--tag", "x"],
        ["delete", "user", "-a", "foreign", "u", "--revoke"],
    ],
)
def test_foreign_account_is_not_resigned(foreign: Path, argv: list[str]) -> None:
    before = fingerprint(foreign)
    code, out, err = run("-H", str(foreign), *argv)
    assert code == 1, out + err
    assert "refusing to re-sign" in err
    assert fingerprint(foreign) == before


def test_edit_account_adopt_then_revoke_works(foreign: Path) -> None:
    ok("-H", str(foreign), "edit", "account", "foreign", "--adopt")
    claims = decode((foreign / "demo/accounts/foreign/foreign.jwt").read_text())
    op_key = peek((foreign / "demo/demo.jwt").read_text()).subject
    assert claims.issuer == op_key
    ok("-H", str(foreign), "revoke", "user", "-a", "foreign", "-n", "u")


def test_revoke_adopt_flag(foreign: Path) -> None:
    ok("-H", str(foreign), "revoke", "user", "-a", "foreign", "-n", "u", "--adopt")


def test_an_account_orphaned_by_a_removed_signing_key_is_re_signed_with_adopt(home: Path) -> None:
    # edit operator --rm-sk leaves accounts that no longer chain; the note names the way out
    out = ok("-H", str(home), "edit", "operator", "--sk", "generate", "--json")
    assert out
    op = decode((home / "demo/demo.jwt").read_text())
    signing_key = op.signing_keys[0]
    ok("-H", str(home), "edit", "account", "demo", "--tag", "x", "-K", signing_key)
    assert peek((home / "demo/accounts/demo/demo.jwt").read_text()).issuer == signing_key
    out = ok("-H", str(home), "edit", "operator", "--rm-sk", signing_key)
    assert "--adopt" in out
    code, _, err = run("-H", str(home), "edit", "account", "demo", "--tag", "y")
    assert code == 1 and "refusing to re-sign" in err
    ok("-H", str(home), "edit", "account", "demo", "--tag", "y", "--adopt")
    assert peek((home / "demo/accounts/demo/demo.jwt").read_text()).issuer == op.subject
