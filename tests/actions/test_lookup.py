"""Lookups by public key answer only with stored JWTs that verify and are of the kind looked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from nscpy.actions.errors import ActionError
from nscpy.actions.init import init_store
from nscpy.actions.lookup import accounts_by_key, find_user
from nscpy.actions.users import UserSpec, add_user
from nscpy.actions.verified import Stored, find_by_key, verified_accounts, verified_users
from nscpy.actions.workspace import Workspace
from nscpy.jwt import decode_user


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace.open(all_dirs=str(tmp_path / "nsc"), env={"HOME": str(tmp_path)})
    init_store(ws, "demo")
    return ws


def _forge(path: Path) -> None:
    """Flip one signature character: the payload still parses, the signature no longer holds."""
    head, payload, sig = path.read_text().strip().split(".")
    path.write_text(f"{head}.{payload}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}\n")


def _user_key(ws: Workspace, user: str) -> str:
    return decode_user(ws.store.read_user("demo", "demo", user).strip()).subject


def test_user_found_by_its_key(ws: Workspace) -> None:
    key = _user_key(ws, "demo")
    assert find_user(ws, "demo", "demo", key) == "demo"
    [entry] = verified_users(ws.store, "demo", "demo")
    assert (entry.name, entry.claims.subject) == ("demo", key)
    assert entry.token == ws.store.read_user("demo", "demo", "demo").strip()


def test_a_jwt_that_does_not_verify_never_answers_for_a_key(ws: Workspace) -> None:
    key = _user_key(ws, "demo")
    _forge(ws.paths.user_jwt("demo", "demo", "demo"))
    assert verified_users(ws.store, "demo", "demo") == []
    with pytest.raises(ActionError, match="does not exist"):
        find_user(ws, "demo", "demo", key)
    account_key = ws.find_account_by_key("demo", next(iter(accounts_by_key(ws, "demo"))))
    assert account_key is not None
    _forge(ws.paths.account_jwt("demo", "demo"))
    assert "demo" not in accounts_by_key(ws, "demo").values()
    assert [e.name for e in verified_accounts(ws.store, "demo")] == ["SYS"]


def test_a_jwt_of_another_kind_never_answers_for_a_key(ws: Workspace) -> None:
    # a user JWT dropped where an account JWT belongs: its subject is no account key
    user_token = ws.store.read_user("demo", "demo", "demo")
    ws.paths.account_jwt("demo", "demo").write_text(user_token)
    assert [e.name for e in verified_accounts(ws.store, "demo")] == ["SYS"]
    assert ws.find_account_by_key("demo", _user_key(ws, "demo")) is None


def test_two_entities_with_one_key_is_an_error_naming_both(ws: Workspace) -> None:
    add_user(ws, UserSpec(name="twin", account="demo", operator="demo"))
    ws.paths.user_jwt("demo", "demo", "twin").write_text(ws.store.read_user("demo", "demo", "demo"))
    key = _user_key(ws, "demo")
    both = r"2 users of account 'demo' have the key .*'demo', 'twin'"
    with pytest.raises(ActionError, match=both):
        find_user(ws, "demo", "demo", key)


def test_find_by_key_none_one_or_refuse(ws: Workspace) -> None:
    [entry] = verified_users(ws.store, "demo", "demo")
    assert find_by_key([], entry.claims.subject, "users") is None
    assert find_by_key([entry], entry.claims.subject, "users") is entry
    assert find_by_key([entry], "U" + "A" * 55, "users") is None
    twin = Stored("twin", entry.token, entry.claims)
    with pytest.raises(ActionError, match="2 users have the key"):
        find_by_key([entry, twin], entry.claims.subject, "users")
