"""rotate signing-key / operator-signing-key on the store alone (no server): what each phase
writes, resuming, dry runs, the keyring backend, refusals, and that no seed is ever printed.
(Live clients on a real nats-server: tests/e2e/test_rotation.py and test_rotation_crash.py.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from nscpy.jwt import AccountClaims, OperatorClaims, UserClaims, decode, parse_decorated_jwt
from tests.store.test_keyring import MemoryKeyring

from .cliutil import fingerprint, run

SEED = re.compile(r"S[A-Z][A-Z2-7]{56}")
NOWHERE = ("-u", "nats://127.0.0.1:1", "--timeout", "0.2")
"""A URL nothing listens on: the push of a phase fails after its store steps."""


class Store:
    def __init__(self, home: Path, *flags: str) -> None:
        self.home = home
        self.flags = flags
        self.outputs: list[str] = []
        self.nsc("add", "operator", "-n", "O", "--sys", "--generate-signing-key")
        self.nsc("add", "account", "-n", "A")
        self.nsc("edit", "account", "A", "--sk", "generate")
        self.nsc("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "team",
                 "--allow-pub", "team.>", "--description", "the team")  # fmt: skip
        self.plain = next(k for k, s in self.account("A").signing_keys.items() if s is None)
        for name in ("u1", "u2"):
            self.nsc("add", "user", "-a", "A", "-n", name, "-K", self.plain)
        self.nsc("add", "user", "-a", "A", "-n", "scoped", "-K", "team")
        self.nsc("add", "user", "-a", "A", "-n", "by-identity", "-K", self.account("A").subject)

    def nsc(self, *argv: str) -> str:
        code, out, err = run("-H", str(self.home), *self.flags, *argv)
        self.outputs.append(out + err)
        assert code == 0, f"{argv} -> {code}\n{out}{err}"
        return out

    def fail(self, *argv: str) -> str:
        code, out, err = run("-H", str(self.home), *self.flags, *argv)
        self.outputs.append(out + err)
        assert code in (1, 2), (code, out, err)
        return err

    def json(self, *argv: str) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.nsc(*argv, "--json"))
        return data

    def account(self, name: str) -> AccountClaims:
        claims = decode((self.home / "O/accounts" / name / f"{name}.jwt").read_text())
        assert isinstance(claims, AccountClaims)
        return claims

    def operator(self) -> OperatorClaims:
        claims = decode((self.home / "O/O.jwt").read_text())
        assert isinstance(claims, OperatorClaims)
        return claims

    def user(self, name: str) -> UserClaims:
        claims = decode((self.home / "O/accounts/A/users" / f"{name}.jwt").read_text())
        assert isinstance(claims, UserClaims)
        return claims

    def record(self, account: str | None = "A") -> dict[str, str] | None:
        rotations = self.home / "O/.rotations"
        path = (
            rotations / "operator.json"
            if account is None
            else rotations / f"accounts/{account}.json"
        )
        return json.loads(path.read_text()) if path.exists() else None

    def assert_valid(self) -> None:
        code, out, _ = run("-H", str(self.home), *self.flags, "validate", "-A")
        assert code == 0, out

    def assert_no_seed_printed(self) -> None:
        assert not any(SEED.search(text) for text in self.outputs)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "h")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


def _touched(report: dict[str, object]) -> set[tuple[str, str]]:
    items = report["touched"]
    assert isinstance(items, list)
    return {(t["kind"], t["name"]) for t in items}


def test_start_moves_what_the_old_key_signed_and_resumes_idempotently(store: Store) -> None:
    before = {n: store.user(n) for n in ("u1", "u2", "scoped", "by-identity")}
    report = store.json("rotate", "signing-key", "start", "-a", "A", "--key", store.plain)
    new = report["new_key"]
    assert report["old_key"] == store.plain and report["state"] == "started"
    assert report["resumed"] is False
    assert _touched(report) == {("account", "A"), ("user", "u1"), ("user", "u2")}
    acct = store.account("A")
    assert store.plain in acct.signing_keys and new in acct.signing_keys
    assert acct.signing_keys.get_scope(new) is None  # a plain key stays plain
    for name in ("u1", "u2"):
        user = store.user(name)
        assert user.issuer == new and user.issuer_account == acct.subject
        assert user.subject == before[name].subject and user.name == before[name].name
        creds = (store.home / "creds/O/A" / f"{name}.creds").read_text()
        assert (
            parse_decorated_jwt(creds).strip()
            == (store.home / "O/accounts/A/users" / f"{name}.jwt").read_text().strip()
        )
    assert store.user("scoped").issuer == before["scoped"].issuer
    assert store.user("by-identity").issuer == acct.subject
    assert store.record() == {
        "kind": "signing-key", "subject": acct.subject, "old": store.plain, "new": new,
        "phase": "started",
    }  # fmt: skip
    store.assert_valid()
    # running start again finds everything done: nothing is written
    snapshot = fingerprint(store.home)
    again = store.json("rotate", "signing-key", "start", "-a", "A")
    assert again["resumed"] is True and again["touched"] == [] and again["new_key"] == new
    assert fingerprint(store.home) == snapshot
    store.assert_no_seed_printed()


def test_scoped_key_rotation_keeps_the_scope(store: Store) -> None:
    old = store.user("scoped").issuer
    report = store.json("rotate", "signing-key", "start", "-a", "A", "--role", "team")
    assert report["old_key"] == old
    acct = store.account("A")
    old_scope, new_scope = (
        acct.signing_keys.get_scope(old),
        acct.signing_keys.get_scope(str(report["new_key"])),
    )
    assert old_scope is not None and new_scope is not None
    assert (new_scope.role, new_scope.description) == ("team", "the team")
    assert new_scope.template.to_json_dict() == old_scope.template.to_json_dict()
    assert store.user("scoped").issuer == report["new_key"]
    store.assert_valid()


def test_finish_removes_the_old_key_and_keeps_the_record_until_pushed(store: Store) -> None:
    start = store.json("rotate", "signing-key", "start", "-a", "A", "--key", store.plain)
    # a user added with the old key during the window is a straggler finish re-signs
    store.nsc("add", "user", "-a", "A", "-n", "late", "-K", store.plain)
    err = store.fail("rotate", "signing-key", "finish", "-a", "A", *NOWHERE)
    assert "run the same command again to retry" in err
    assert store.plain not in store.account("A").signing_keys
    assert store.user("late").issuer == start["new_key"]
    record = store.record()
    assert record is not None and record["phase"] == "finishing"
    store.assert_valid()
    err = store.fail("rotate", "signing-key", "start", "-a", "A")
    assert "is finishing" in err
    err = store.fail("rotate", "signing-key", "finish", "-a", "A", *NOWHERE)  # retried push
    assert "run the same command again" in err
    store.assert_no_seed_printed()


def test_emergency_does_start_and_finish_at_once(store: Store) -> None:
    code, out, err = run(
        "-H", str(store.home), "rotate", "signing-key", "emergency", "-a", "A",
        "--key", store.plain, *NOWHERE, "--json",
    )  # fmt: skip
    assert code == 1 and "no nats-server reachable" in err
    report = json.loads(out)
    assert report["state"] == "finishing" and report["error"]
    assert _touched(report) == {("account", "A"), ("user", "u1"), ("user", "u2")}
    acct = store.account("A")
    assert store.plain not in acct.signing_keys and report["new_key"] in acct.signing_keys
    assert store.user("u1").issuer == report["new_key"]
    store.assert_valid()


def test_dry_run_writes_nothing(store: Store) -> None:
    snapshot = fingerprint(store.home)
    report = store.json("rotate", "signing-key", "start", "-a", "A", "--key", store.plain,
                        "--dry-run")  # fmt: skip
    assert report["dry_run"] is True and ("user", "u1") in _touched(report)
    store.json("rotate", "signing-key", "emergency", "-a", "A", "--key", store.plain,
               "--dry-run", *NOWHERE)  # fmt: skip
    store.json("rotate", "operator-signing-key", "start", "--dry-run")
    assert fingerprint(store.home) == snapshot
    assert store.record() is None


def test_keyring_backend(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    store = Store(tmp_path / "h", "--keyring")
    seeds_before = dict(memory_keyring.secrets)
    store.json("rotate", "signing-key", "start", "-a", "A", "--key", store.plain, "--dry-run")
    assert memory_keyring.secrets == seeds_before  # a dry run does not reach the keyring
    report = store.json("rotate", "signing-key", "start", "-a", "A", "--key", store.plain)
    new = str(report["new_key"])
    assert ("nscpy", new) in memory_keyring.secrets
    assert not list(store.home.rglob(f"{new}.nk"))
    assert store.user("u1").issuer == new
    store.assert_valid()
    store.assert_no_seed_printed()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--key", "IDENTITY"), "identity key of account 'A'"),
        ((), "has 2 signing keys: choose one"),
        (("--role", "nobody"), "no signing key of account 'A' have role 'nobody'"),
        (("--key", "OPERATOR_SK"), "is not a signing key of account 'A'"),
        (("--key", "PLAIN", "--role", "team"), "either --key or --role"),
    ],
)
def test_start_refusals(store: Store, argv: tuple[str, ...], message: str) -> None:
    names = {
        "IDENTITY": store.account("A").subject,
        "PLAIN": store.plain,
        "OPERATOR_SK": store.operator().signing_keys[0],
    }
    snapshot = fingerprint(store.home)
    err = store.fail("rotate", "signing-key", "start", "-a", "A", *(names.get(a, a) for a in argv))
    assert message in err
    assert fingerprint(store.home) == snapshot


def test_phases_need_a_started_rotation(store: Store) -> None:
    for phase in ("push", "finish"):
        err = store.fail("rotate", "signing-key", phase, "-a", "A", *NOWHERE)
        assert "no signing-key rotation of account 'A' is in progress" in err
    store.nsc("rotate", "signing-key", "start", "-a", "A", "--key", store.plain)
    other = next(k for k, scope in store.account("A").signing_keys.items() if scope is not None)
    err = store.fail("rotate", "signing-key", "finish", "-a", "A", "--key", other, *NOWHERE)
    assert "is in progress" in err


def test_operator_start_resigns_the_accounts_its_old_key_signed(store: Store) -> None:
    old = store.operator().signing_keys[0]
    store.nsc("edit", "account", "A", "-K", old)
    store.nsc("edit", "account", "SYS", "-K", store.operator().subject)
    report = store.json("rotate", "operator-signing-key", "start")
    new = report["new_key"]
    assert report["old_key"] == old
    assert _touched(report) == {("operator", "O"), ("account", "A")}
    assert store.operator().signing_keys == [old, new]
    assert store.account("A").issuer == new
    assert store.account("SYS").issuer == store.operator().subject  # identity-signed: kept
    store.assert_valid()
    err = store.fail("rotate", "operator-signing-key", "emergency", *NOWHERE)
    assert "run the same command again" in err
    assert store.operator().signing_keys == [new]  # dropped locally at once
    record = store.record(None)
    assert record is not None and record["phase"] == "finishing"
    store.assert_valid()
    store.assert_no_seed_printed()


def test_activation_tokens_the_old_key_signed_move_too(store: Store, tmp_path: Path) -> None:
    store.nsc("add", "export", "-a", "A", "-s", "svc.>", "--service", "--private")
    store.nsc("add", "account", "-n", "B")
    token = tmp_path / "act.jwt"
    store.nsc("generate", "activation", "-a", "A", "-s", "svc.>", "-t", "B", "-K", store.plain,
              "-o", str(token))  # fmt: skip
    store.nsc("add", "import", "-a", "B", "--token", str(token))

    def b_token_issuer() -> str:
        act = decode(store.account("B").imports[0].token)
        assert act.issuer_account == store.account("A").subject  # type: ignore[attr-defined]
        return act.issuer

    assert b_token_issuer() == store.plain
    report = store.json("rotate", "signing-key", "start", "-a", "A", "--key", store.plain)
    assert ("account", "B") in _touched(report)
    assert b_token_issuer() == report["new_key"]
    store.assert_valid()
    store.fail("rotate", "signing-key", "finish", "-a", "A", *NOWHERE)
    assert store.plain not in store.account("A").signing_keys
    store.assert_valid()


def test_start_takes_no_server_flags(store: Store) -> None:
    code, _, err = run("-H", str(store.home), "rotate", "signing-key", "start", "-a", "A",
                       "-u", "nats://127.0.0.1:1")  # fmt: skip
    assert code == 2 and "No such option '-u'" in err
    code, _, err = run("-H", str(store.home), "rotate", "operator-signing-key", "start", "-u", "x")
    assert code == 2 and "No such option '-u'" in err


def test_a_damaged_seed_given_as_key_is_not_echoed(store: Store) -> None:
    from nscpy import keys

    damaged = keys.create_pair(keys.Prefix.ACCOUNT).seed[:50]
    err = store.fail("rotate", "signing-key", "start", "-a", "A", "--key", damaged)
    assert "not shown" in err and damaged[2:20] not in err
    err = store.fail("add", "user", "-a", "A", "-n", "x", "-K", damaged)
    assert damaged[2:20] not in err


def test_scope_edits_during_a_rotation_name_the_key(store: Store) -> None:
    report = store.json("rotate", "signing-key", "start", "-a", "A", "--role", "team")
    err = store.fail("edit", "signing-key", "-a", "A", "--sk", "team", "--allow-sub", "x")
    assert "role 'team' belongs to 2 signing keys" in err
    err = store.fail("add", "user", "-a", "A", "-n", "x", "-K", "team")
    assert "role 'team' belongs to 2 signing keys" in err
    store.nsc("edit", "signing-key", "-a", "A", "--sk", str(report["new_key"]), "--allow-sub", "x")
    scope = store.account("A").signing_keys.get_scope(str(report["new_key"]))
    assert scope is not None and scope.role == "team" and scope.template.sub.allow == ["x"]
    store.assert_valid()


def test_a_role_cannot_be_given_to_a_second_key_by_hand(store: Store) -> None:
    err = store.fail("edit", "signing-key", "-a", "A", "--sk", store.plain, "--role", "team")
    assert "role 'team' already belongs to signing key" in err


def test_a_record_stale_by_hand_edits_is_refused(store: Store) -> None:
    report = store.json("rotate", "signing-key", "start", "-a", "A", "--key", store.plain)
    store.nsc("edit", "account", "A", "--rm-sk", store.plain, "--rm-sk", str(report["new_key"]))
    err = store.fail("rotate", "signing-key", "start", "-a", "A")
    assert "is stale" in err


def test_rotations_in_progress_show_in_validate_and_do_not_collide(store: Store) -> None:
    store.nsc("add", "account", "-n", "operator")
    store.nsc("edit", "account", "operator", "--sk", "generate")
    store.nsc("rotate", "signing-key", "start", "-a", "operator")
    store.nsc("rotate", "operator-signing-key", "start")
    assert store.record("operator") is not None and store.record(None) is not None
    assert store.record("operator") != store.record(None)
    report = json.loads(store.nsc("validate", "-A", "--json"))
    notes = [i["description"] for s in report["sections"] for i in s["issues"]]
    assert report["ok"] is True and len(notes) == 2
    assert notes[0].startswith("operator-signing-key rotation of operator 'O' in progress")
    assert notes[1].startswith("signing-key rotation of account 'operator' in progress")


def test_validate_names_the_record_of_a_deleted_account(store: Store) -> None:
    store.nsc("rotate", "signing-key", "start", "-a", "A", "--key", store.plain)
    store.nsc("delete", "account", "A", "--rm-nkey", "--rm-creds")
    out = store.nsc("validate", "-A", "--json")
    assert "the account is gone: remove" in out and ".rotations/accounts/A.json" in out
