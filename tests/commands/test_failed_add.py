"""A failed add leaves nothing behind: no orphan seed in the keystore, no partial JWT or directory.

Each case makes the JWT (or creds) write fail after the new key was generated — a directory of
the store replaced by a link out of it, or something in the way of the new file — and compares a
fingerprint of the store and of the link's target before and after. The error is one line that
names the cause and holds no seed.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from nscpy.redact import looks_like_seed

from .cliutil import fingerprint, ok, run


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("template") / "h"
    ok("-H", str(home), "add", "operator", "-n", "op")
    ok("-H", str(home), "add", "account", "-n", "a")
    ok("-H", str(home), "add", "user", "-a", "a", "-n", "alice")
    return home


@pytest.fixture
def home(template: Path, tmp_path: Path) -> Path:
    work = tmp_path / "h"
    shutil.copytree(template, work, symlinks=True)
    return work


def _seeds(home: Path) -> set[str]:
    return {p.name for p in (home / "keys").rglob("*.nk")}


def _fails_cleanly(home: Path, outside: Path, *argv: str, expect: str) -> None:
    """Run argv against home; it must fail with one line naming `expect` and change nothing."""
    store_before, outside_before = fingerprint(home), fingerprint(outside)
    seeds_before = _seeds(home)
    code, out, err = run("-H", str(home), *argv)
    assert code == 1, (out, err)
    assert err.count("\n") == 1 and expect in err, err
    assert not looks_like_seed(err)
    assert _seeds(home) == seeds_before  # no orphan seed
    assert fingerprint(outside) == outside_before  # nothing written through the link
    assert fingerprint(home) == store_before  # no partial JWT, creds, directory or .gitignore


def test_add_account_through_linked_accounts_dir(home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    accounts = home / "op" / "accounts"
    shutil.rmtree(accounts)
    accounts.symlink_to(outside)
    _fails_cleanly(home, outside, "add", "account", "-n", "b", expect="symbolic link")


def test_add_operator_onto_linked_operator_dir(home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (home / "op2").symlink_to(outside)
    _fails_cleanly(home, outside, "add", "operator", "-n", "op2", expect="symbolic link")


def test_add_operator_onto_foreign_directory(home: Path, tmp_path: Path) -> None:
    (home / "op2").mkdir()
    (home / "op2" / "notes.txt").write_text("mine")
    _fails_cleanly(home, tmp_path / "none", "add", "operator", "-n", "op2", expect="op2")


def test_add_operator_sys_fails_at_the_sys_user(home: Path, tmp_path: Path) -> None:
    # the operator, its signing key, the SYS account and their seeds are written before the
    # sys user's seed meets the linked shard: all of it is undone
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.rmtree(home / "keys" / "U")
    (home / "keys" / "U").symlink_to(outside)
    _fails_cleanly(home, outside, "add", "operator", "-n", "op2", "--sys", expect="symbolic link")


def test_add_user_onto_a_directory_named_like_its_jwt(home: Path, tmp_path: Path) -> None:
    (home / "op" / "accounts" / "a" / "users" / "bob.jwt").mkdir()
    _fails_cleanly(home, tmp_path / "none", "add", "user", "-a", "a", "-n", "bob", expect="bob")


def test_add_user_whose_creds_cannot_be_written(home: Path, tmp_path: Path) -> None:
    # the seed and the user JWT are written before the creds file meets a directory
    creds = home / "creds" / "op" / "a"
    (creds / "bob.creds").mkdir(parents=True)
    _fails_cleanly(home, tmp_path / "none", "add", "user", "-a", "a", "-n", "bob", expect="bob")


def _link_out(home: Path, tmp_path: Path, shard: str) -> Path:
    """Replace keys/<shard> with a link to a directory outside the store; returns that one."""
    outside = tmp_path / "outside"
    outside.mkdir()
    keys_dir = home / "keys" / shard
    shutil.rmtree(keys_dir, ignore_errors=True)
    keys_dir.symlink_to(outside)
    return outside


# Edits that generate a key store its seed first and then the JWT that names it: if the seed
# cannot be stored, the JWT is not changed (before, it named a key whose seed was lost).
@pytest.mark.parametrize(
    ("shard", "argv"),
    [
        ("A", ["edit", "account", "a", "--sk", "generate"]),
        ("O", ["edit", "operator", "--sk", "generate"]),
        ("A", ["edit", "signing-key", "-a", "a", "--sk", "generate", "--role", "r"]),
        ("X", ["edit", "authcallout", "-a", "a", "--curve", "generate"]),
    ],
    ids=["edit account", "edit operator", "edit signing-key", "edit authcallout"],
)
def test_generating_edit_whose_seed_cannot_be_stored(
    home: Path, tmp_path: Path, shard: str, argv: list[str]
) -> None:
    outside = _link_out(home, tmp_path, shard)
    _fails_cleanly(home, outside, *argv, expect="symbolic link")


def test_import_user_whose_creds_cannot_be_written(home: Path, tmp_path: Path) -> None:
    from nscpy import keys
    from nscpy.jwt import UserClaims, decode_account, encode, format_user_creds

    account = decode_account((home / "op" / "accounts" / "a" / "a.jwt").read_text())
    account_seed = next((home / "keys" / "A").rglob(account.subject + ".nk")).read_text()
    user = keys.create_pair(keys.Prefix.USER)
    claims = UserClaims.new(user.public_key)
    claims.name = "bob"
    signer = keys.from_seed(account_seed)
    assert isinstance(signer, keys.KeyPair)
    token = encode(claims, signer, iat=int(time.time()))
    creds_file = tmp_path / "bob.creds"
    creds_file.write_text(format_user_creds(token, user.seed))
    (home / "creds" / "op" / "a" / "bob.creds").mkdir(parents=True)
    _fails_cleanly(home, tmp_path / "none", "import", "user", "-f", str(creds_file), expect="bob")
