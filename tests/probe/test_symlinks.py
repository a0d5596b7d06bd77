"""A write never follows a directory symlink out of the store.

Each store-internal directory (key shards, key kinds, creds per operator and account, users,
accounts, the operator) is replaced by a link to a directory outside the store; every write
command is refused with a clear error, nothing lands outside, and nothing changes inside.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nscpy import keys
from nscpy.jwt import peek
from nscpy.store.atomic import atomic_write, check_below
from nscpy.store.errors import UnsafePath
from tests.commands.cliutil import ok, run


def fingerprint(root: Path) -> dict[str, str]:
    """{relative path: content digest, 'dir' or 'link -> target'}, not following links."""
    import hashlib
    import os

    found: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            rel = str(full.relative_to(root))
            if full.is_symlink():
                found[rel] = f"link -> {os.readlink(full)}"
            elif full.is_dir():
                found[rel] = "dir"
            else:
                found[rel] = hashlib.sha256(full.read_bytes()).hexdigest()
    return found


def _link_out(inside: Path, outside: Path) -> None:
    """Move the directory's content outside and leave a symlink to it in its place."""
    outside.parent.mkdir(parents=True, exist_ok=True)
    if inside.exists():
        shutil.move(str(inside), str(outside))
    else:
        outside.mkdir()
    inside.parent.mkdir(parents=True, exist_ok=True)
    inside.symlink_to(outside, target_is_directory=True)


CASES = {
    "creds/<op>/<account>": lambda h: h / "creds/demo/demo",
    "creds/<op>": lambda h: h / "creds/demo",
    "keys/U": lambda h: h / "keys/U",
    "keys": lambda h: h / "keys",
    "accounts/<A>/users": lambda h: h / "demo/accounts/demo/users",
    "accounts/<A>": lambda h: h / "demo/accounts/demo",
    "<op>/accounts": lambda h: h / "demo/accounts",
}


@pytest.mark.parametrize("where", list(CASES))
def test_add_user_refuses_a_linked_store_directory(home: Path, tmp_path: Path, where: str) -> None:
    outside = tmp_path / "outside" / "target"
    _link_out(CASES[where](home), outside)
    before_in, before_out = fingerprint(home), fingerprint(outside)
    code, out, err = run("-H", str(home), "add", "user", "-a", "demo", "-n", "x")
    assert code == 1, out + err
    assert "symbolic link" in err, err
    assert fingerprint(outside) == before_out, "something was written outside the store"
    assert fingerprint(home) == before_in


def test_a_linked_key_shard_is_refused(home: Path, tmp_path: Path) -> None:
    # a shard the new key will use: pre-create the link for the key we are about to import
    pair = keys.create_pair(keys.Prefix.USER)
    shard = home / "keys/U" / pair.public_key[1:3]
    outside = tmp_path / "outside"
    _link_out(shard, outside)  # the shard may already hold a fixture key (1 in ~1,000): it moves
    before_out = fingerprint(outside)
    nk = tmp_path / "in" / f"{pair.public_key}.nk"
    nk.parent.mkdir()
    nk.write_text(pair.seed)
    code, _, err = run("-H", str(home), "import", "keys", "--dir", str(nk.parent))
    assert code == 1 and "symbolic link" in err
    assert fingerprint(outside) == before_out


@pytest.mark.parametrize(
    "argv",
    [
        ["edit", "user", "-a", "demo", "-n", "demo", "--tag", "t"],
        ["generate", "creds", "-a", "demo", "-n", "demo", "-o", "-"],
        ["revoke", "user", "-a", "demo", "-n", "demo"],
        ["delete", "user", "-a", "demo", "demo", "--rm-creds", "--rm-nkey"],
    ],
)
def test_other_writes_refuse_a_linked_creds_directory(
    home: Path, tmp_path: Path, argv: list[str]
) -> None:
    outside = tmp_path / "outside"
    _link_out(home / "creds/demo/demo", outside)
    before = fingerprint(outside)
    code, out, err = run("-H", str(home), *argv)
    if argv[0] in ("edit", "delete"):
        assert code == 1 and "symbolic link" in err, out + err
    assert fingerprint(outside) == before


def test_delete_through_a_linked_users_directory_is_refused(home: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    _link_out(home / "demo/accounts/demo/users", outside)
    code, _, err = run("-H", str(home), "delete", "user", "-a", "demo", "demo")
    assert code == 1 and "symbolic link" in err
    assert (outside / "demo.jwt").is_file()


def test_the_store_root_itself_may_be_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    ok("-H", str(tmp_path / "link"), "init", "-n", "demo")
    ok("-H", str(tmp_path / "link"), "add", "user", "-a", "demo", "-n", "x")
    assert (real / "creds/demo/demo/x.creds").is_file()


def test_check_below_unit(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "b").symlink_to(tmp_path / "elsewhere")
    check_below(root, root / "a" / "f")
    check_below(root, root / "new" / "deeper" / "f")  # missing levels are created later
    with pytest.raises(UnsafePath, match="symbolic link"):
        check_below(root, root / "b" / "f")
    with pytest.raises(UnsafePath, match="outside"):
        check_below(root, tmp_path / "f")
    with pytest.raises(UnsafePath):
        atomic_write(root / "b" / "c" / "f", "x", root=root)
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_reads_through_links_still_work(home: Path, tmp_path: Path) -> None:
    # refusing writes must not break reads of a store someone linked together
    outside = tmp_path / "outside"
    _link_out(home / "demo/accounts/demo/users", outside)
    out = ok("-H", str(home), "describe", "user", "-a", "demo", "-n", "demo", "-J")
    assert peek((outside / "demo.jwt").read_text()).subject in out


def test_open_below_unit(tmp_path: Path) -> None:
    import os
    import stat

    from nscpy.store.atomic import open_below
    from nscpy.store.errors import StoreIOError

    real = tmp_path / "real"
    real.mkdir()
    root = tmp_path / "root"
    root.symlink_to(real)  # the root may be a link
    fd, created = open_below(root, root / "a" / "b")
    os.close(fd)
    assert created == [root / "a", root / "a" / "b"]
    assert stat.S_IMODE(os.stat(real / "a" / "b").st_mode) == 0o700
    (tmp_path / "elsewhere").mkdir()
    (real / "a" / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePath, match="symbolic link"):
        open_below(root, root / "a" / "link" / "deeper")
    (real / "a" / "file").write_text("x")
    with pytest.raises(StoreIOError, match="a file is in the way"):
        open_below(root, root / "a" / "file" / "deeper")
    assert list((tmp_path / "elsewhere").iterdir()) == []


ADD_CASES = {
    "add account, <op>/accounts": ("demo/accounts", ["add", "account", "-n", "x"]),
    "add account, keys/A": ("keys/A", ["add", "account", "-n", "x"]),
    "add account, keys": ("keys", ["add", "account", "-n", "x"]),
    "add operator, keys/O": ("keys/O", ["add", "operator", "-n", "o2"]),
    "add operator --sys, keys/U": ("keys/U", ["add", "operator", "-n", "o2", "--sys"]),
    "add operator --sys, keys/A": ("keys/A", ["add", "operator", "-n", "o2", "--sys"]),
}


@pytest.mark.parametrize("case", list(ADD_CASES))
def test_adds_refuse_a_linked_store_directory_and_leave_nothing(
    home: Path, tmp_path: Path, case: str
) -> None:
    # refused before or after the new key's seed was stored: either way no seed, JWT or
    # directory of the failed add stays behind (a seed must never outlive its entity)
    where, argv = ADD_CASES[case]
    outside = tmp_path / "outside" / "target"
    _link_out(home / where, outside)
    before_in, before_out = fingerprint(home), fingerprint(outside)
    code, out, err = run("-H", str(home), *argv)
    assert code == 1 and "symbolic link" in err and err.count("\n") == 1, out + err
    assert fingerprint(outside) == before_out, "something was written outside the store"
    assert fingerprint(home) == before_in


@pytest.mark.parametrize("where", ["demo/accounts", "demo/accounts/demo"])
def test_delete_account_through_a_linked_directory_is_refused(
    home: Path, tmp_path: Path, where: str
) -> None:
    outside = tmp_path / "outside"
    _link_out(home / where, outside)
    before = fingerprint(outside)
    code, _, err = run("-H", str(home), "delete", "account", "demo", "--rm-nkey", "--rm-creds")
    assert code == 1 and "symbolic link" in err, err
    assert fingerprint(outside) == before
