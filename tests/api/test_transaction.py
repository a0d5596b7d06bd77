"""Transactions: a failure half-way through leaves every file of the store as it was."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from nscpy.api import (
    AccountEdit,
    DeleteUsers,
    ExportChange,
    ImportSpec,
    JetStreamEdit,
    LimitsEdit,
    NscError,
    PermissionSpec,
    Store,
)
from tests.commands.cliutil import fingerprint


class Injected(RuntimeError):
    """The failure a test throws in the middle of a transaction."""


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(home=tmp_path / "nsc")
    s.add_operator("O")
    s.add_account("O", "A")
    s.add_user("O", "A", "alice", permissions=PermissionSpec(allow_pub=["orders.>"]))
    return s


def test_failure_half_way_leaves_the_store_unchanged(store: Store, tmp_path: Path) -> None:
    before = fingerprint(tmp_path / "nsc")
    with pytest.raises(Injected):
        with store.transaction():
            store.add_account("O", "B")
            store.add_user("O", "B", "bob")
            store.edit_user("O", "A", "alice", limits=LimitsEdit(subs=3))
            store.add_export("O", "A", "svc.>", ExportChange(service=True))
            store.revoke_user("O", "A", "alice")
            store.edit_account("O", "A", AccountEdit(jetstream=JetStreamEdit(enable=1)))
            store.delete_users("O", "A", ["alice"])
            assert store.users("O", "A") == []  # the transaction sees its own writes
            raise Injected("half-way")
    assert fingerprint(tmp_path / "nsc") == before
    assert store.accounts("O") == ["A", "SYS"]
    assert store.user("O", "A", "alice").pub.allow == ["orders.>"]


def test_an_action_that_fails_inside_undoes_its_own_first_writes(
    store: Store, tmp_path: Path
) -> None:
    # a file where the creds directory of account A belongs: add_user has already written the
    # seed and the user JWT when writing the creds fails (a real I/O error, no mock)
    creds_dir = store.paths.creds_dir("O", "A")
    for f in creds_dir.iterdir():
        f.unlink()
    creds_dir.rmdir()
    creds_dir.write_text("in the way")
    before = fingerprint(tmp_path / "nsc")
    with pytest.raises(NscError, match="in the way|not a directory"):
        store.add_user("O", "A", "carol")
    assert fingerprint(tmp_path / "nsc") == before
    assert store.users("O", "A") == ["alice"]


def test_a_refused_step_rolls_back_the_earlier_ones(store: Store, tmp_path: Path) -> None:
    before = fingerprint(tmp_path / "nsc")
    with pytest.raises(NscError, match="already exists"):
        with store.transaction():
            store.add_user("O", "A", "dave")
            store.add_operator("O2")
            store.add_user("O", "A", "alice")  # exists: the store refuses
    assert fingerprint(tmp_path / "nsc") == before
    assert store.operators() == ["O"]


def test_deleted_seeds_and_creds_come_back(store: Store, tmp_path: Path) -> None:
    alice = store.user("O", "A", "alice").subject
    before = fingerprint(tmp_path / "nsc")
    with pytest.raises(Injected):
        with store.transaction():
            store.delete_users(
                "O", "A", ["alice"], DeleteUsers(names=[], revoke=True, rm_nkey=True, rm_creds=True)
            )
            assert store.seed(alice) is None
            raise Injected
    assert fingerprint(tmp_path / "nsc") == before
    assert store.seed(alice) is not None


def test_deleting_an_account_is_undone(store: Store, tmp_path: Path) -> None:
    before = fingerprint(tmp_path / "nsc")
    with pytest.raises(Injected):
        with store.transaction():
            store.delete_account("O", "A")
            assert store.accounts("O") == ["SYS"]
            raise Injected
    assert fingerprint(tmp_path / "nsc") == before


def test_private_exports_and_activations(store: Store) -> None:
    store.add_account("O", "B")
    store.add_export("O", "A", "feed.>", ExportChange(private=True))
    activation = store.generate_activation("O", "A", "feed.>", "B", expiry=2_000_000_000)
    assert activation.claims.subject == store.account("O", "B").subject
    store.add_import(
        "O", "B", ImportSpec(src_account="A", token=activation.decorated(), remote_subject="feed.>")
    )
    assert [i.subject for i in store.account("O", "B").imports] == ["feed.>"]
    revocation = store.revoke_activation("O", "A", "feed.>", "B", at=1000)
    assert (revocation.public_key, revocation.at) == (store.account("O", "B").subject, 1000)


def test_a_committed_transaction_keeps_everything(store: Store) -> None:
    with store.transaction():
        store.add_account("O", "B")
        with store.transaction():  # nested: joins the outer one
            store.add_user("O", "B", "bob")
    assert store.users("O", "B") == ["bob"]
    assert store.creds_path("O", "B", "bob").is_file()


def test_the_api_never_changes_the_cli_selection(tmp_path: Path) -> None:
    store = Store.open(home=tmp_path / "nsc")
    store.add_operator("O")
    store.add_account("O", "A")
    assert not store.paths.nsc_json.exists()


@pytest.mark.e2e
def test_a_transaction_killed_half_way_is_rolled_back_on_next_open(
    store: Store, tmp_path: Path
) -> None:
    home = tmp_path / "nsc"
    before = fingerprint(home)
    died = subprocess.run(
        [sys.executable, "-m", "tests.api.workers", str(home), "--crash"],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert fingerprint(home) != before  # the killed process left half a transaction
    assert (home / ".nscpy-journal").is_file()
    reopened = Store.open(home=home)
    assert fingerprint(home) == before
    assert reopened.users("O", "A") == ["alice"]
    assert not reopened.recover()  # nothing left to roll back


@pytest.mark.e2e
def test_the_cli_waits_for_a_transaction_and_keeps_its_user(store: Store, tmp_path: Path) -> None:
    home = tmp_path / "nsc"
    cli = [sys.executable, "-m", "nscpy", "-H", str(home), "add", "user", "-a", "A", "-n", "late"]
    with pytest.raises(Injected):
        with store.transaction():
            store.add_user("O", "A", "mine")
            proc = subprocess.Popen(cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=2)  # the CLI's user write waits for the operator lock
            raise Injected
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert store.users("O", "A") == ["alice", "late"]  # "mine" rolled back, "late" kept
