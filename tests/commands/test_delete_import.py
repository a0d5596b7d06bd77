"""delete, import/export keys, import account/user, validate and expirations through the CLI."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from nscpy import keys
from nscpy.jwt import AccountClaims, OperatorClaims, UserClaims, decode, encode, peek

from .cliutil import ok, run


@pytest.fixture
def home(tmp_path: Path) -> Path:
    root = tmp_path / "nsc"
    ok("-H", str(root), "init", "-n", "demo")
    for name in ("bob", "carol"):
        ok("-H", str(root), "add", "user", "-a", "demo", "-n", name)
    return root


def _h(home: Path, *args: str) -> str:
    return ok("-H", str(home), *args)


def _account(home: Path, name: str = "demo") -> AccountClaims:
    claims = decode((home / f"demo/accounts/{name}/{name}.jwt").read_text())
    assert isinstance(claims, AccountClaims)
    return claims


def _user_key(home: Path, name: str) -> str:
    return peek((home / f"demo/accounts/demo/users/{name}.jwt").read_text()).subject


def _seed_file(home: Path, public_key: str) -> Path:
    return home / "keys" / public_key[0] / public_key[1:3] / f"{public_key}.nk"


def test_delete_user_without_revoke_keeps_account_seed_and_creds(home: Path) -> None:
    before = (home / "demo/accounts/demo/demo.jwt").read_text()
    bob = _user_key(home, "bob")
    out = _h(home, "delete", "user", "-a", "demo", "bob")
    assert "[WARN] users were not revoked" in out
    assert not (home / "demo/accounts/demo/users/bob.jwt").exists()
    assert (home / "demo/accounts/demo/demo.jwt").read_text() == before
    assert _seed_file(home, bob).exists() and (home / "creds/demo/demo/bob.creds").exists()


def test_delete_user_revoke_rm_nkey_rm_creds_by_public_key(home: Path) -> None:
    bob = _user_key(home, "bob")
    iat = peek((home / "demo/accounts/demo/users/bob.jwt").read_text()).issued_at
    data = json.loads(_h(home, "delete", "user", "-a", "demo", bob, "-R", "-D", "-C", "--json"))
    assert data["users"] == [{"name": "bob", "public_key": bob}]
    account = _account(home)
    assert account.revocations[bob] >= iat
    operator = decode((home / "demo/demo.jwt").read_text())
    assert isinstance(operator, OperatorClaims) and operator.did_sign(account)
    assert not _seed_file(home, bob).exists()
    assert not (home / "creds/demo/demo/bob.creds").exists()
    assert (home / "creds/demo/demo/carol.creds").exists()  # others untouched
    _h(home, "validate", "-a", "demo")


def test_delete_account_revokes_users_and_removes_keys_and_creds(home: Path) -> None:
    account_key = _account(home).subject
    users = {_user_key(home, n) for n in ("bob", "carol", "demo")}
    data = json.loads(_h(home, "delete", "account", "demo", "-D", "-C", "--json"))
    final = decode(data["account_jwt"])
    assert isinstance(final, AccountClaims) and set(final.revocations) == users
    assert 0 < final.expires - final.issued_at <= 60
    assert not (home / "demo/accounts/demo").exists()
    assert not (home / "creds/demo/demo").exists()
    assert not any(_seed_file(home, k).exists() for k in users | {account_key})
    assert [a["name"] for a in json.loads(_h(home, "list", "accounts", "--json"))] == ["SYS"]
    assert json.loads((home / "nsc.json").read_text()).get("account", "") == ""


def test_delete_account_no_revoke_keeps_seeds(home: Path) -> None:
    bob = _user_key(home, "bob")
    data = json.loads(_h(home, "delete", "account", "-n", "demo", "--no-revoke", "--json"))
    assert not decode(data["account_jwt"]).revocations  # type: ignore[union-attr]
    assert _seed_file(home, bob).exists() and (home / "creds/demo/demo/bob.creds").exists()


def test_export_then_import_keys_round_trip(home: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "exported"
    data = json.loads(
        _h(home, "export", "keys", "-d", str(out_dir), "-A", "--include-jwts", "--json")
    )
    exported = set(data["exported"])
    assert _user_key(home, "bob") in exported and _account(home).subject in exported
    for key in exported:
        nk = out_dir / f"{key}.nk"
        assert nk.read_text() == _seed_file(home, key).read_text()
        assert stat.S_IMODE(os.stat(nk).st_mode) == 0o600
    assert (out_dir / f"{_account(home).subject}.jwt").exists()
    code, _, err = run("-H", str(home), "export", "keys", "-d", str(out_dir), "-A")
    assert code == 1 and "--force" in err

    fresh = tmp_path / "fresh"
    imported = json.loads(ok("-H", str(fresh), "import", "keys", "-d", str(out_dir), "--json"))
    assert set(imported["imported"]) == exported
    again = json.loads(ok("-H", str(fresh), "import", "keys", "-d", str(out_dir), "--json"))
    assert again["imported"] == [] and set(again["already_present"]) == exported

    bob = _user_key(home, "bob")
    _h(home, "export", "keys", "-d", str(tmp_path / "moved"), "--user", "bob", "--remove")
    assert (tmp_path / "moved" / f"{bob}.nk").exists() and not _seed_file(home, bob).exists()


def test_import_keys_recurse(home: Path, tmp_path: Path) -> None:
    nested = tmp_path / "k" / "deep"
    nested.mkdir(parents=True)
    pair = keys.create_pair(keys.Prefix.ACCOUNT)
    (nested / "x.nk").write_text(pair.seed + "\n")
    code, _, err = run("-H", str(home), "import", "keys", "-d", str(tmp_path / "k"))
    assert code == 1 and "-R" in err
    _h(home, "import", "keys", "-d", str(tmp_path / "k"), "-R")
    assert _seed_file(home, pair.public_key).read_text() == pair.seed


def _self_signed(name: str) -> tuple[keys.KeyPair, str]:
    pair = keys.create_pair(keys.Prefix.ACCOUNT)
    claims = AccountClaims.new(pair.public_key)
    claims.name = name
    return pair, encode(claims, pair, iat=1_700_000_000)


def test_import_account_self_signed_and_foreign(home: Path, tmp_path: Path) -> None:
    pair, token = _self_signed("ext")
    (tmp_path / "ext.jwt").write_text(token)
    _h(home, "import", "account", "-f", str(tmp_path / "ext.jwt"))
    stored = _account(home, "ext")
    operator_key = peek((home / "demo/demo.jwt").read_text()).subject
    assert stored.subject == pair.public_key and stored.issuer == operator_key

    other = tmp_path / "other"
    ok("-H", str(other), "add", "operator", "-n", "other")
    ok("-H", str(other), "add", "account", "-n", "far")
    far = other / "other/accounts/far/far.jwt"
    code, _, err = run("-H", str(home), "import", "account", "-f", str(far))
    assert code == 1 and "--force" in err
    _h(home, "import", "account", "-j", str(far), "--force")
    assert _account(home, "far").issuer == operator_key
    _h(home, "import", "account", "-f", str(far), "--force", "--overwrite")
    _h(home, "validate", "-A")


def test_import_user_from_creds_stores_the_seed(home: Path, tmp_path: Path) -> None:
    creds = tmp_path / "bob.creds"
    creds.write_text((home / "creds/demo/demo/bob.creds").read_text())
    bob = _user_key(home, "bob")
    _h(home, "delete", "user", "-a", "demo", "bob", "-D", "-C")
    assert not _seed_file(home, bob).exists()
    data = json.loads(_h(home, "import", "user", "-f", str(creds), "--json"))
    assert data["account"] == "demo" and data["name"] == "bob"
    assert _seed_file(home, bob).exists()
    assert (home / "creds/demo/demo/bob.creds").read_text() == creds.read_text()
    code, _, err = run("-H", str(home), "import", "user", "-f", str(creds))
    assert code == 1 and "--overwrite" in err
    _h(home, "import", "user", "-f", str(creds), "--overwrite")


def test_validate_flags_expired_and_foreign_users(home: Path) -> None:
    _h(home, "validate", "-A")
    _h(home, "add", "user", "-a", "demo", "-n", "old", "--expiry", "-1d")
    code, out, err = run("-H", str(home), "validate", "-a", "demo", "--json")
    assert code == 1 and err == "nscpy: error: validation found errors\n"
    issues = [i for s in json.loads(out)["sections"] for i in s["issues"]]
    assert any(i["time_check"] and "user 'old'" in i["description"] for i in issues)

    _h(home, "delete", "user", "-a", "demo", "old")
    stranger = keys.create_pair(keys.Prefix.ACCOUNT)
    user = UserClaims.new(keys.create_pair(keys.Prefix.USER).public_key)
    user.name = "intruder"
    path = home / "demo/accounts/demo/users/intruder.jwt"
    path.write_text(encode(user, stranger, iat=1_700_000_000))
    code, out, _ = run("-H", str(home), "validate", "-a", "demo")
    assert code == 1
    assert "user 'intruder' is not issued by account or account signing keys" in out


def test_validate_file_of_jwts(home: Path, tmp_path: Path) -> None:
    tokens = [(home / f"demo/accounts/{a}/{a}.jwt").read_text() for a in ("SYS", "demo")]
    listing = tmp_path / "jwts.txt"
    listing.write_text("\n".join(f"x|{t}" for t in tokens) + "\n\n")
    data = json.loads(_h(home, "validate", "-f", str(listing), "--json"))
    assert data["ok"] is True and len(data["sections"]) == 2


def test_expirations_report(home: Path) -> None:
    _h(home, "add", "user", "-a", "demo", "-n", "soon", "--expiry", "3d")
    _h(home, "add", "user", "-a", "demo", "-n", "gone", "--expiry", "-1h")
    data = json.loads(_h(home, "expirations", "--json"))
    rows = {r["resource"]: r for r in data["report"]}
    assert rows["demo/demo/soon"]["expires_soon"] and not rows["demo/demo/soon"]["expired"]
    assert rows["demo/demo/gone"]["expired"]
    assert rows["demo/demo/bob"] == {
        **rows["demo/demo/bob"],
        "when": "Never",
        "expired": False,
        "expires_soon": False,
    }
    assert str(home / "creds/demo/demo/soon.creds") in rows
    narrow = json.loads(_h(home, "expirations", "--within", "1d", "--skip", "--json"))
    assert {r["resource"] for r in narrow["report"]} == {
        "demo/demo/gone",
        str(home / "creds/demo/demo/gone.creds"),
    }
    table = _h(home, "expirations", "--skip")
    assert "Soon" in table and "Yes" in table and "bob" not in table


def test_validate_refuses_jetstream_on_the_system_account(home: Path) -> None:
    sys_jwt = home / "demo/accounts/SYS/SYS.jwt"
    claims = decode(sys_jwt.read_text())
    assert isinstance(claims, AccountClaims)
    claims.limits.jetstream.mem_storage = -1
    operator_key = peek((home / "demo/demo.jwt").read_text()).subject
    signer = keys.from_seed(_seed_file(home, operator_key).read_text())
    assert isinstance(signer, keys.KeyPair)
    sys_jwt.write_text(encode(claims, signer, iat=1_700_000_000))
    code, out, _ = run("-H", str(home), "validate", "-a", "SYS")
    assert code == 1 and "JetStream should not be enabled for system account" in out
