"""DataStore: nsc's tree, operator/account/user CRUD, locking across processes, batches."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from nscpy import keys
from nscpy.store import AlreadyExists, CorruptStore, DataStore, KeyStore, NotFound, StoreInfo

from .conftest import REPO


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def tree(root) -> dict[str, tuple[str, int]]:
    """{relative path: (kind, mode)} for every entry under root."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            kind = "d" if name in dirnames else "f"
            out[os.path.relpath(full, root)] = (kind, mode(full))
    return out


@pytest.fixture
def op_store(datastore: DataStore) -> DataStore:
    datastore.create_operator("O", "op.jwt.text")
    datastore.create_account("O", "A", "acct.jwt.text")
    return datastore


def test_store_written_by_nscpy_has_nscs_exact_tree(paths, vectors):
    ds, ks = DataStore(paths), KeyStore(paths)
    jwts = {v["description"]: v["token"] for v in vectors["jwts"]}
    op = next(t for d, t in jwts.items() if d.startswith("operator JWT, minimal"))
    acct = next(t for d, t in jwts.items() if d.startswith("account JWT as created"))
    user = next(t for d, t in jwts.items() if d.startswith("user JWT as created"))
    useed = vectors["nkeys"][7]["seed"]
    ds.create_operator("O", op)
    ds.create_account("O", "A", acct)
    ds.create_user("O", "A", "U", user)
    upub = ks.put(useed)
    ks.write_creds("O", "A", "U", vectors["creds_file"]["content"])

    stores = tree(paths.data_dir / "O")
    assert stores == {
        ".nsc": ("f", 0o600),
        "O.jwt": ("f", 0o600),
        "accounts": ("d", 0o700),
        "accounts/A": ("d", 0o700),
        "accounts/A/A.jwt": ("f", 0o600),
        "accounts/A/users": ("d", 0o700),
        "accounts/A/users/U.jwt": ("f", 0o600),
    }
    assert (paths.data_dir / "O" / ".nsc").read_text() == (
        '{"managed":false,"name":"O","kind":"operator","version":"1"}'
    )
    assert (paths.data_dir / "O" / "O.jwt").read_text() == op
    assert (paths.data_dir / "O/accounts/A/users/U.jwt").read_text() == user
    keystore_tree = {k: v for k, v in tree(paths.keystore_dir).items() if not k.startswith("O")}
    assert keystore_tree == {
        ".gitignore": ("f", 0o600),
        "keys": ("d", 0o700),
        "keys/U": ("d", 0o700),
        f"keys/U/{upub[1:3]}": ("d", 0o700),
        f"keys/U/{upub[1:3]}/{upub}.nk": ("f", 0o600),
        "creds": ("d", 0o700),
        "creds/O": ("d", 0o700),
        "creds/O/A": ("d", 0o700),
        "creds/O/A/U.creds": ("f", 0o600),
    }


def test_store_laid_out_by_nsc_rules_is_read(tmp_path, make_paths, vectors):
    # Built by hand exactly as Go nsc writes it (os.WriteFile, json.Marshal of Info).
    root = tmp_path / "nsc"
    opdir = root / "OP"
    (opdir / "accounts" / "Acc" / "users").mkdir(parents=True)
    (opdir / "accounts" / "Empty").mkdir()  # no Empty.jwt: nsc does not list it
    (opdir / ".nsc").write_text('{"managed":true,"name":"OP","kind":"operator","version":"1"}')
    tokens = [v["token"] for v in vectors["jwts"]]
    (opdir / "OP.jwt").write_text(tokens[0])
    (opdir / "accounts" / "Acc" / "Acc.jwt").write_text(tokens[2])
    (opdir / "accounts" / "Acc" / "users" / "bob.jwt").write_text(tokens[5])
    (opdir / "accounts" / "Acc" / "users" / "notes.txt").write_text("ignored")
    (root / "not-an-operator").mkdir()
    ds = DataStore(make_paths("nsc"))
    assert ds.list_operators() == ["OP"]
    assert ds.info("OP") == StoreInfo("OP", managed=True)
    assert ds.list_accounts("OP") == ["Acc"]
    assert ds.list_users("OP", "Acc") == ["bob"]
    assert ds.read_operator("OP") == tokens[0]
    assert ds.read_account("OP", "Acc") == tokens[2]
    assert ds.read_user("OP", "Acc", "bob") == tokens[5]
    ds.create_user("OP", "Acc", "carol", tokens[6])  # and it can be extended
    assert ds.list_users("OP", "Acc") == ["bob", "carol"]


def test_create_operator_twice_is_already_exists(datastore, paths):
    datastore.create_operator("O", "x")
    with pytest.raises(AlreadyExists, match="operator 'O' already exists"):
        datastore.create_operator("O", "y")
    assert datastore.read_operator("O") == "x"
    assert [n for n in os.listdir(paths.data_dir) if n != "O"] == []


def test_create_operator_into_existing_empty_dir_is_allowed(datastore, paths):
    (paths.data_dir / "O").mkdir(parents=True)
    datastore.create_operator("O", None, managed=True)
    assert datastore.info("O").managed is True
    with pytest.raises(NotFound, match="operator JWT"):
        datastore.read_operator("O")


def test_unknown_operator_account_user(op_store):
    with pytest.raises(NotFound, match="operator 'X' does not exist"):
        op_store.read_operator("X")
    with pytest.raises(NotFound, match="account 'B' does not exist in operator 'O'"):
        op_store.write_user("O", "B", "U", "t")
    with pytest.raises(NotFound, match="user 'U'"):
        op_store.read_user("O", "A", "U")
    with pytest.raises(NotFound, match="user 'U' does not exist"):
        op_store.delete_user("O", "A", "U")


def test_corrupt_nsc_file(op_store, paths):
    paths.operator_nsc_file("O").write_text("{nope")
    with pytest.raises(CorruptStore, match="not a valid .nsc file"):
        op_store.info("O")


def test_account_names_are_unique_ignoring_case(op_store):
    with pytest.raises(AlreadyExists, match="account 'A' already exists"):
        op_store.create_account("O", "a", "t")
    assert op_store.find_account("O", "a") == "A"
    assert op_store.list_accounts("O") == ["A"]


def test_users_crud(op_store):
    op_store.create_user("O", "A", "u1", "t1")
    with pytest.raises(AlreadyExists, match="user 'u1' already exists"):
        op_store.create_user("O", "A", "u1", "t2")
    op_store.write_user("O", "A", "u1", "t3")
    assert op_store.read_user("O", "A", "u1") == "t3"
    op_store.create_user("O", "A", "u2", "t")
    assert op_store.list_users("O", "A") == ["u1", "u2"]
    op_store.delete_user("O", "A", "u1")
    assert op_store.list_users("O", "A") == ["u2"]
    assert not op_store.has_user("O", "A", "u1")


def test_delete_account_removes_its_tree(op_store, paths):
    op_store.create_user("O", "A", "u", "t")
    op_store.delete_account("O", "A")
    assert op_store.list_accounts("O") == []
    assert os.listdir(paths.accounts_dir("O")) == []
    with pytest.raises(NotFound):
        op_store.delete_account("O", "A")


def test_read_modify_write(op_store, paths):
    target = paths.account_jwt("O", "A")
    assert op_store.read_modify_write(target, lambda old: old + "+1") == "acct.jwt.text+1"
    assert op_store.read_modify_write(target, lambda old: None) is None
    assert target.read_text() == "acct.jwt.text+1"
    outside = paths.config_dir / "elsewhere.json"
    op_store.read_modify_write(outside, lambda old: "[]" if old is None else old)
    assert outside.read_text() == "[]"


@pytest.mark.e2e
def test_eight_processes_lose_nothing(op_store, paths):
    target = paths.account_jwt("O", "A")
    target.write_text("[]")
    workers, each = 8, 25
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.store.workers",
                "rmw",
                str(paths.data_dir),
                str(w),
                str(each),
            ],
            cwd=REPO,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for w in range(workers)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    entries = json.loads(target.read_text())
    expected = {f"w{w}-{i}" for w in range(workers) for i in range(each)}
    assert sorted(entries) == sorted(expected)  # none lost, none duplicated
    users = op_store.list_users("O", "A")
    assert sorted(users) == sorted(f"u{e[1:]}" for e in expected)
    ks = KeyStore(paths)
    listed = {i.public_key for i in ks.list()}
    for u in users:
        pub = op_store.read_user("O", "A", u).split(".", 1)[1]
        assert pub in listed and ks.get(pub) is not None
    leftovers = [p for p in paths.data_dir.rglob("*") if ".tmp-" in p.name]
    assert leftovers == []


def test_batch_is_all_or_nothing(op_store, keystore, vectors, paths):
    creds = vectors["creds_file"]["content"]
    pairs = [keys.create_pair(keys.Prefix.USER) for _ in range(100)]
    with op_store.batch("O", keystore) as b:
        b.write_account("B", "acct-b")
        for i, kp in enumerate(pairs):
            b.put_key(kp.seed)
            b.write_user("B", f"u{i}", f"jwt.{kp.public_key}")
            b.write_creds("B", f"u{i}", creds)
        assert op_store.list_accounts("O") == ["A"]
    assert op_store.list_accounts("O") == ["A", "B"]
    assert len(op_store.list_users("O", "B")) == 100
    assert len(keystore.list()) == 100
    assert keystore.read_creds("O", "B", "u7") == creds

    with pytest.raises(RuntimeError), op_store.batch("O", keystore) as b:
        b.write_user("B", "late", "t")
        b.delete_user("B", "u0")
        raise RuntimeError("abort")
    assert "late" not in op_store.list_users("O", "B")
    assert op_store.has_user("O", "B", "u0")

    with op_store.batch("O") as b:
        b.delete_user("B", "u0")
        with pytest.raises(NotFound):
            b.write_user("Nope", "x", "t")
    assert not op_store.has_user("O", "B", "u0")


def test_half_made_operator_dir_is_not_an_operator(datastore, paths):
    # what a crash between the directory rename and the .nsc write leaves behind
    (paths.data_dir / "O" / "accounts").mkdir(parents=True)
    (paths.data_dir / "O" / "O.jwt").write_text("t")
    assert datastore.list_operators() == []
    with pytest.raises(AlreadyExists, match="not an operator store"):
        datastore.create_operator("O", "t")
