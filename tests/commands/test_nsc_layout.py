"""nscpy writes nsc's exact tree, and reads and extends one laid out by hand.

The hand-made store follows nsc's rules (cmd/store/store.go, cmd/store/keys.go) with JWTs signed
by the official Go library (tests/data/vectors.json); nscpy lists, describes, validates and
extends it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from nscpy import keys
from nscpy.jwt import AccountClaims, UserClaims, decode, format_user_creds
from nscpy.store.layout import GITIGNORE_TEXT

from .cliutil import ok, run


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _tree(root: Path) -> dict[str, int]:
    return {
        str(p.relative_to(root)): _mode(p)
        for p in root.rglob("*")
        if p.name != "nsc.json"  # the config file is checked on its own below
    }


def _key_entries(public_key: str) -> dict[str, int]:
    k, xy = public_key[0], public_key[1:3]
    return {f"keys/{k}": 0o700, f"keys/{k}/{xy}": 0o700, f"keys/{k}/{xy}/{public_key}.nk": 0o600}


def test_store_written_by_nscpy_has_nscs_exact_layout(tmp_path: Path) -> None:
    home = tmp_path / "nsc"
    ok("-H", str(home), "init", "-n", "demo")
    ok("-H", str(home), "add", "user", "-a", "demo", "-n", "bob", "--allow-pub", "a.>")
    listed = json.loads(ok("-H", str(home), "list", "keys", "--json"))
    pub = {(r["entity"], r["name"]): r["public_key"] for r in listed}

    expected = {
        ".gitignore": 0o600,
        "demo": 0o700,
        "demo/.nsc": 0o600,
        "demo/demo.jwt": 0o600,
        "demo/accounts": 0o700,
        "keys": 0o700,
        "creds": 0o700,
        "creds/demo": 0o700,
    }
    accounts = {"SYS": ["sys"], "demo": ["bob", "demo"]}
    for account, users in accounts.items():
        base = f"demo/accounts/{account}"
        expected |= {base: 0o700, f"{base}/{account}.jwt": 0o600, f"{base}/users": 0o700}
        expected[f"creds/demo/{account}"] = 0o700
        expected |= _key_entries(pub[("account", account)])
        for user in users:
            expected[f"{base}/users/{user}.jwt"] = 0o600
            expected[f"creds/demo/{account}/{user}.creds"] = 0o600
            expected |= _key_entries(pub[("user", user)])
    expected |= _key_entries(pub[("operator", "demo")])
    assert _tree(home) == expected

    assert (home / "demo/.nsc").read_text() == (
        '{"managed":false,"name":"demo","kind":"operator","version":"1"}'
    )
    assert (home / ".gitignore").read_text() == GITIGNORE_TEXT
    config = json.loads((home / "nsc.json").read_text())
    assert config["store_root"] == str(home) and config["operator"] == "demo"
    assert _mode(home / "nsc.json") == 0o600

    for nk in home.glob("keys/*/*/*.nk"):
        raw = nk.read_text()
        assert raw == raw.strip() and not raw.endswith("\n")  # raw seed, no newline
        assert keys.from_seed(raw).public_key == nk.name[: -len(".nk")]

    for account, users in accounts.items():
        acct = decode((home / f"demo/accounts/{account}/{account}.jwt").read_text())
        assert isinstance(acct, AccountClaims) and acct.name == account
        for user in users:
            token = (home / f"demo/accounts/{account}/users/{user}.jwt").read_text()
            claims = decode(token)
            assert isinstance(claims, UserClaims) and claims.name == user
            assert acct.did_sign(claims)
            seed = (home / "keys" / "U" / claims.subject[1:3] / f"{claims.subject}.nk").read_text()
            creds = (home / f"creds/demo/{account}/{user}.creds").read_text()
            assert creds == format_user_creds(token, seed)
            lines = creds.split("\n")
            assert lines[0] == "-----BEGIN NATS USER JWT-----" and lines[1] == token
            assert lines[2] == "------END NATS USER JWT------"
            assert lines[8:11] == [
                "-----BEGIN USER NKEY SEED-----",
                seed,
                "------END USER NKEY SEED------",
            ]
            assert lines[12] == "*" * 61 and lines[13] == ""


def _vector(vectors: dict[str, Any], prefix: str) -> dict[str, Any]:
    return next(v for v in vectors["jwts"] if v["description"].startswith(prefix))


def _hand_made_store(root: Path, vectors: dict[str, Any]) -> dict[str, Any]:
    """Lay out a store exactly as Go nsc writes one (os.WriteFile, 0700 dirs, 0600 files)."""
    op = _vector(vectors, "operator JWT, all fields")
    acct = _vector(vectors, "account JWT as created")
    user = _vector(vectors, "user JWT as created")
    opname = op["expected_claims"]["name"]  # "My Operator": a space, as nsc allows
    users_dir = root / opname / "accounts" / "A" / "users"
    os.makedirs(users_dir, mode=0o700)
    files = {
        root / opname / ".nsc": json.dumps(
            {"managed": False, "name": opname, "kind": "operator", "version": "1"},
            separators=(",", ":"),
        ),
        root / opname / f"{opname}.jwt": op["token"],
        root / opname / "accounts" / "A" / "A.jwt": acct["token"],
        users_dir / "U.jwt": user["token"],
    }
    # the account identity seed (the user's signer) is in the keystore, as nsc would keep it
    apub = user["signer_public_key"]
    key_file = root / "keys" / "A" / apub[1:3] / f"{apub}.nk"
    os.makedirs(key_file.parent, mode=0o700)
    files[key_file] = user["signer_seed"]
    for path, text in files.items():
        path.write_text(text)
        path.chmod(0o600)
    return {"operator": opname, "op": op, "acct": acct, "user": user}


def test_store_laid_out_by_hand_is_read_listed_described_and_extended(
    tmp_path: Path, vectors: dict[str, Any]
) -> None:
    home = tmp_path / "nsc"
    made = _hand_made_store(home, vectors)
    h = ("-H", str(home))
    opname = made["operator"]
    op_sub = made["op"]["expected_claims"]["sub"]
    acct_sub = made["acct"]["expected_claims"]["sub"]
    user_sub = made["user"]["expected_claims"]["sub"]

    assert json.loads(ok(*h, "list", "operators", "--json")) == [
        {"name": opname, "public_key": op_sub}
    ]
    assert json.loads(ok(*h, "list", "accounts", "--json")) == [
        {"name": "A", "public_key": acct_sub}
    ]
    assert json.loads(ok(*h, "list", "users", "-a", "A", "--json")) == [
        {"name": "U", "public_key": user_sub}
    ]
    described = json.loads(ok(*h, "describe", "operator", "--json"))
    assert described["sub"] == op_sub and described["nats"]["strict_signing_key_usage"] is True
    assert ok(*h, "describe", "account", "A", "-F", "sub").strip().strip('"') == acct_sub
    assert (
        ok(*h, "describe", "user", "-a", "A", "-n", "U", "--raw").strip() == (made["user"]["token"])
    )
    assert "UAKY3BV2" in ok(*h, "describe", "user", "-a", acct_sub, "U")

    # extend it: the vector operator is in strict signing-key mode and account A has no
    # signing key, so no key may sign a new user (the account identity key may not)
    code, _, err = run(*h, "add", "user", "-a", "A", "-n", "carol", "--allow-sub", "x.>")
    assert code == 1 and "no key may sign users of account 'A'" in err
    assert not (home / opname / "accounts/A/users/carol.jwt").exists()
    assert [u["name"] for u in json.loads(ok(*h, "list", "users", "-a", "A", "--json"))] == ["U"]

    # the vector operator is in strict signing-key mode, so users issued by the account
    # identity key are flagged, exactly as nsc validate does
    code, out, err = run(*h, "validate", "-A", "--json")
    assert code == 1
    issues = [i["description"] for s in json.loads(out)["sections"] for i in s["issues"]]
    assert "user 'U' is issued by account key but operator is in strict mode" in issues
    assert err == "nscpy: error: validation found errors\n"
