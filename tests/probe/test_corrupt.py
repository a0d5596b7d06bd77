"""validate names every bad file and checks the keystore; crash leftovers
(temp files of a killed writer) are ignored, never mistaken for data."""

from __future__ import annotations

import json
from pathlib import Path

from nscpy import keys
from nscpy.jwt import peek
from tests.commands.cliutil import ok, run


def _issues(home: Path, *argv: str) -> tuple[int, list[str]]:
    code, out, err = run("-H", str(home), "validate", *argv, "--json")
    assert "Traceback" not in err
    sections = json.loads(out)["sections"]
    return code, [i["description"] for s in sections for i in s["issues"]]


def _key_file(home: Path, public_key: str) -> Path:
    return home / "keys" / public_key[0] / public_key[1:3] / f"{public_key}.nk"


def _account_key(home: Path, name: str = "demo") -> str:
    return peek((home / f"demo/accounts/{name}/{name}.jwt").read_text()).subject


def test_undecodable_user_jwt_is_named(home: Path) -> None:
    bad = home / "demo/accounts/demo/users/demo.jwt"
    bad.write_bytes(b"\xff\xfe\x00" + b"x" * 40)
    code, issues = _issues(home, "-A")
    assert code == 1
    assert any(str(bad) in i and "not UTF-8" in i for i in issues), issues


def test_undecodable_account_jwt_is_named(home: Path) -> None:
    bad = home / "demo/accounts/demo/demo.jwt"
    bad.write_bytes(b"\x80\x81")
    code, issues = _issues(home, "-A")
    assert code == 1 and any(str(bad) in i for i in issues), issues


def test_garbage_jwt_names_its_file(home: Path) -> None:
    bad = home / "demo/accounts/demo/users/demo.jwt"
    bad.write_text("not a jwt at all")
    code, issues = _issues(home, "-A")
    assert code == 1 and any(str(bad) in i and "does not decode" in i for i in issues), issues


def test_garbage_in_an_account_seed_file(home: Path) -> None:
    nk = _key_file(home, _account_key(home))
    nk.write_text("garbage")
    code, issues = _issues(home, "-A")
    assert code == 1 and any(str(nk) in i and "valid seed" in i for i in issues), issues


def test_a_user_seed_in_an_account_seed_file(home: Path) -> None:
    nk = _key_file(home, _account_key(home))
    user_seed = keys.create_pair(keys.Prefix.USER).seed
    nk.write_text(user_seed)
    code, out, err = run("-H", str(home), "validate", "-A")
    assert code == 1 and str(nk) in out and "holds the seed of U" in out
    assert user_seed not in out + err  # the reason names the key, never the seed


def test_binary_seed_file_and_misplaced_key(home: Path) -> None:
    nk = _key_file(home, _account_key(home))
    nk.write_bytes(b"\xff\x00\x01")
    stray = home / "keys/A/ZZ" / nk.name
    stray.parent.mkdir()
    stray.write_text("x")
    nameless = home / "keys/U/AB/not-a-key.nk"
    nameless.parent.mkdir(parents=True, exist_ok=True)
    nameless.write_text("x")
    code, issues = _issues(home, "-A")
    assert code == 1
    assert any(str(nk) in i for i in issues)
    assert any(str(stray) in i and "not where" in i for i in issues)
    assert any(str(nameless) in i and "not named after a public key" in i for i in issues)


def test_creds_with_another_users_seed(home: Path) -> None:
    creds = home / "creds/demo/demo/demo.creds"
    other = keys.create_pair(keys.Prefix.USER).seed
    text = creds.read_text()
    seed_line = next(line for line in text.splitlines() if line.startswith("SU"))
    creds.write_text(text.replace(seed_line, other))
    code, issues = _issues(home, "-A")
    assert code == 1 and any(str(creds) in i and "is not for user" in i for i in issues)


def test_a_healthy_store_validates(home: Path) -> None:
    code, issues = _issues(home, "-A")
    assert code == 0 and issues == []


def test_crash_leftovers_are_ignored(home: Path) -> None:
    # what a SIGKILLed writer leaves: temp files beside every kind of target, a half-built
    # operator directory, a deleted account's grave
    users = home / "demo/accounts/demo/users"
    (users / ".demo.jwt.tmp-0123456789ab").write_text("torn")
    (users / ".x.jwt.tmp-0123456789ab").write_text("torn")
    shard = _key_file(home, _account_key(home)).parent
    (shard / f".{_account_key(home)}.nk.tmp-0123456789ab").write_text("torn")
    (home / "creds/demo/demo/.demo.creds.tmp-0123456789ab").write_text("torn")
    (home / ".op.tmp-0123456789ab/accounts").mkdir(parents=True)
    (home / "demo/accounts/.gone.deleted-0123456789ab").mkdir()
    code, issues = _issues(home, "-A")
    assert code == 0, issues
    users_listed = json.loads(ok("-H", str(home), "list", "users", "-a", "demo", "--json"))
    assert [u["name"] for u in users_listed] == ["demo"]
    assert "op" not in ok("-H", str(home), "list", "operators")
    ok("-H", str(home), "add", "user", "-a", "demo", "-n", "x")
