"""Under a strict operator (--require-signing-keys) every write command signs with a signing
key, never an identity key, and `validate -A` stays clean.

The store is built as a new user would (as in the bug report that found the rule broken):
operator with a signing key, strict mode, an account with a signing key, a user. Each test then
runs one write command and checks who signed what it wrote.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from nscpy import keys
from nscpy.actions.workspace import Workspace
from nscpy.jwt import (
    AccountClaims,
    ActivationClaims,
    OperatorClaims,
    UserClaims,
    decode,
    encode,
    parse_decorated_jwt,
)

from .cliutil import ok, run


class Store:
    """A store under home with operator OP: its claims, keys and checks."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def nsc(self, *argv: str) -> str:
        return ok("-H", str(self.home), *argv)

    def fail(self, *argv: str) -> str:
        code, out, err = run("-H", str(self.home), *argv)
        assert code in (1, 2), (code, out, err)
        return err

    def operator(self) -> OperatorClaims:
        claims = decode((self.home / "OP" / "OP.jwt").read_text())
        assert isinstance(claims, OperatorClaims)
        return claims

    def account(self, name: str) -> AccountClaims:
        claims = decode((self.home / "OP/accounts" / name / f"{name}.jwt").read_text())
        assert isinstance(claims, AccountClaims)
        return claims

    def user(self, account: str, name: str) -> UserClaims:
        claims = decode((self.home / "OP/accounts" / account / "users" / f"{name}.jwt").read_text())
        assert isinstance(claims, UserClaims)
        return claims

    def pair(self, public_key: str) -> keys.KeyPair:
        """The stored key pair of public_key (read through the keystore, as nscpy does)."""
        seed = Workspace.open(all_dirs=str(self.home), env={}).keystore.require(public_key)
        return keys.KeyPair.from_seed(seed)

    def assert_account_signed_by_signing_key(self, name: str) -> None:
        op, acct = self.operator(), self.account(name)
        assert acct.issuer != op.subject, f"account {name} signed by the operator identity"
        assert acct.issuer in op.signing_keys

    def assert_user_signed_by_signing_key(self, account: str, name: str) -> None:
        acct, user = self.account(account), self.user(account, name)
        assert user.issuer != acct.subject, f"user {name} signed by the account identity"
        assert user.issuer in acct.signing_keys
        assert user.issuer_account == acct.subject

    def assert_valid(self, *warnings: str) -> None:
        """validate -A passes with no issue but the expected warnings (given by their start)."""
        report = json.loads(self.nsc("validate", "-A", "--json"))
        assert report["ok"] is True
        found = [i["description"] for s in report["sections"] for i in s["issues"]]
        assert len(found) == len(warnings), report
        assert all(f.startswith(w) for f, w in zip(found, warnings, strict=True)), report


class StrictStore(Store):
    """operator OP (signing key, strict), account A (signing key) with user u, account B."""

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.nsc("add", "operator", "-n", "OP", "--generate-signing-key")
        self.nsc("edit", "operator", "--require-signing-keys")
        self.nsc("add", "account", "-n", "A")
        self.nsc("edit", "account", "A", "--sk", "generate")
        self.nsc("add", "user", "-a", "A", "-n", "u")
        self.nsc("add", "account", "-n", "B")
        self.nsc("edit", "account", "B", "--sk", "generate")


@pytest.fixture
def store(tmp_path: Path) -> StrictStore:
    return StrictStore(tmp_path / "h")


def test_add_user_is_signed_by_an_account_signing_key(store: StrictStore) -> None:
    """The issue's bug: add user signed with the account identity key under strict mode."""
    store.assert_user_signed_by_signing_key("A", "u")
    store.nsc("add", "user", "-a", "B", "-n", "w")
    store.assert_user_signed_by_signing_key("B", "w")
    store.assert_valid()


def test_add_user_refuses_the_identity_key_given_with_K(store: StrictStore) -> None:
    err = store.fail("add", "user", "-a", "A", "-n", "x", "-K", store.account("A").subject)
    assert "may not sign" in err and "requires signing keys" in err
    assert not (store.home / "OP/accounts/A/users/x.jwt").exists()


def test_strict_account_without_signing_key_refuses_add_user(store: StrictStore) -> None:
    store.nsc("add", "account", "-n", "C")
    err = store.fail("add", "user", "-a", "C", "-n", "x")
    assert "no key may sign users of account 'C'" in err
    store.assert_valid()


def test_edit_user_keeps_a_signing_key(store: StrictStore) -> None:
    store.nsc("edit", "user", "-a", "A", "-n", "u", "--conn-type", "STANDARD")
    store.assert_user_signed_by_signing_key("A", "u")
    store.assert_valid()


def test_edit_user_repairs_an_identity_signed_user(store: StrictStore) -> None:
    """A user left signed by the identity key (the old bug) is re-signed by a signing key."""
    acct = store.account("A")
    claims = store.user("A", "u")
    claims.issuer_account = ""
    path = store.home / "OP/accounts/A/users/u.jwt"
    path.write_text(encode(claims, store.pair(acct.subject), iat=int(time.time())))
    code, out, _ = run("-H", str(store.home), "validate", "-A")
    assert code == 1 and "strict mode" in out
    store.nsc("edit", "user", "-a", "A", "-n", "u", "--tag", "x")
    store.assert_user_signed_by_signing_key("A", "u")
    store.assert_valid()


def test_add_account_is_signed_by_an_operator_signing_key(store: StrictStore) -> None:
    store.assert_account_signed_by_signing_key("A")
    store.nsc("add", "account", "-n", "C")
    store.assert_account_signed_by_signing_key("C")
    err = store.fail("add", "account", "-n", "D", "-K", store.operator().subject)
    assert "may not sign" in err
    store.assert_valid()


def test_edit_account_and_signing_key_edits(store: StrictStore) -> None:
    store.nsc("edit", "account", "A", "--conns", "10")
    store.assert_account_signed_by_signing_key("A")
    store.nsc("edit", "account", "A", "--sk", "generate")
    store.assert_account_signed_by_signing_key("A")
    store.nsc("edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "team")
    store.assert_account_signed_by_signing_key("A")
    store.nsc("add", "user", "-a", "A", "-n", "scoped", "-K", "team")
    store.assert_user_signed_by_signing_key("A", "scoped")
    scope = store.account("A").signing_keys.get_scope(store.user("A", "scoped").issuer)
    assert scope is not None and scope.role == "team"
    store.nsc("edit", "user", "-a", "A", "-n", "scoped", "--tag", "t")
    assert store.user("A", "scoped").issuer == scope.key  # a scoped user stays scoped
    store.assert_valid()


def test_reissue_operator_keeps_accounts_on_signing_keys(store: StrictStore) -> None:
    old = store.operator().subject
    store.nsc("reissue", "operator")
    assert store.operator().subject != old
    store.assert_account_signed_by_signing_key("A")
    store.assert_valid()


def test_revoke_user_is_signed_by_an_operator_signing_key(store: StrictStore) -> None:
    store.nsc("revoke", "user", "-a", "A", "-n", "u")
    store.assert_account_signed_by_signing_key("A")
    assert store.account("A").revocations
    store.assert_valid("user 'u' is revoked by its account")


def test_exports_imports_and_activations(store: StrictStore) -> None:
    store.nsc("add", "export", "-a", "A", "-s", "svc.>", "--service", "--private")
    store.assert_account_signed_by_signing_key("A")
    token_file = store.home / "act.jwt"
    store.nsc("generate", "activation", "-a", "A", "-s", "svc.>", "-t", "B", "-o", str(token_file))
    act = decode(parse_decorated_jwt(token_file.read_text()).strip())
    assert isinstance(act, ActivationClaims)
    acct = store.account("A")
    assert act.issuer != acct.subject and act.issuer in acct.signing_keys
    assert act.issuer_account == acct.subject
    store.nsc("add", "import", "-a", "B", "--token", str(token_file))
    store.assert_account_signed_by_signing_key("B")
    store.assert_valid()


def test_push_precheck_refuses_an_identity_signed_account(store: StrictStore) -> None:
    """push checks the signer rule before it connects (the URL below has no server)."""
    op = store.operator()
    acct = store.account("A")
    (store.home / "OP/accounts/A/A.jwt").write_text(
        encode(acct, store.pair(op.subject), iat=int(time.time()))
    )
    err = store.fail("push", "-a", "A", "-u", "nats://127.0.0.1:1")
    assert "not signed by operator" in err


def test_rotate_signing_key_under_strict_mode(store: StrictStore) -> None:
    old = store.user("A", "u").issuer
    report = json.loads(store.nsc("rotate", "signing-key", "start", "-a", "A", "--json"))
    assert report["old_key"] == old
    store.assert_account_signed_by_signing_key("A")
    store.assert_user_signed_by_signing_key("A", "u")
    assert store.user("A", "u").issuer == report["new_key"]
    store.assert_valid("signing-key rotation of account 'A' in progress (started)")
    # finish's store steps run before its push (which fails here: no server)
    store.fail("rotate", "signing-key", "finish", "-a", "A", "-u", "nats://127.0.0.1:1")
    store.assert_account_signed_by_signing_key("A")
    assert old not in store.account("A").signing_keys
    store.assert_valid("signing-key rotation of account 'A' in progress (finishing)")


def test_rotate_operator_signing_key_under_strict_mode(store: StrictStore) -> None:
    old = store.operator().signing_keys[0]
    report = json.loads(store.nsc("rotate", "operator-signing-key", "start", "--json"))
    assert report["old_key"] == old
    for name in ("A", "B"):
        store.assert_account_signed_by_signing_key(name)
        assert store.account(name).issuer == report["new_key"]
    store.assert_valid("operator-signing-key rotation of operator 'OP' in progress (started)")


def test_renew_under_strict_mode(store: StrictStore) -> None:
    store.nsc("add", "user", "-a", "A", "-n", "short", "--expiry", "1d")
    issuer = store.user("A", "short").issuer
    report = json.loads(store.nsc("renew", "users", "--json"))
    assert [r["name"] for r in report["renewed"]] == ["short"]
    store.assert_user_signed_by_signing_key("A", "short")
    assert store.user("A", "short").issuer == issuer
    store.assert_valid()


def test_import_user_refuses_one_signed_by_the_identity_key(store: StrictStore) -> None:
    acct = store.account("A")
    pair = keys.create_pair(keys.Prefix.USER)
    claims = UserClaims.new(pair.public_key)
    claims.name = "outsider"
    jwt_file = store.home / "outsider.jwt"
    jwt_file.write_text(encode(claims, store.pair(acct.subject), iat=int(time.time())))
    err = store.fail("import", "user", "--file", str(jwt_file))
    assert "may not sign users of account 'A'" in err
    assert not (store.home / "OP/accounts/A/users/outsider.jwt").exists()
    claims.issuer_account = acct.subject
    sk = next(iter(acct.signing_keys))
    jwt_file.write_text(encode(claims, store.pair(sk), iat=int(time.time())))
    store.nsc("import", "user", "--file", str(jwt_file))
    store.assert_user_signed_by_signing_key("A", "outsider")
    store.assert_valid()


def test_without_strict_mode_a_signing_key_is_preferred_and_identity_allowed(
    tmp_path: Path,
) -> None:
    home = tmp_path / "h"
    h = ("-H", str(home))
    ok(*h, "add", "operator", "-n", "OP", "--generate-signing-key")
    ok(*h, "add", "account", "-n", "A")
    ok(*h, "add", "user", "-a", "A", "-n", "before-sk")
    ok(*h, "edit", "account", "A", "--sk", "generate")
    ok(*h, "edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "team")
    ok(*h, "add", "user", "-a", "A", "-n", "after-sk")
    store = Store(home)
    op, acct = store.operator(), store.account("A")
    assert acct.issuer in op.signing_keys  # the operator signing key, not the identity
    assert store.user("A", "before-sk").issuer == acct.subject  # nothing else could sign
    after = store.user("A", "after-sk")
    assert after.issuer in acct.signing_keys and acct.signing_keys.get_scope(after.issuer) is None
    ok(*h, "add", "user", "-a", "A", "-n", "by-id", "-K", acct.subject)  # allowed, not strict
    assert store.user("A", "by-id").issuer == acct.subject
    ok(*h, "edit", "user", "-a", "A", "-n", "before-sk", "--tag", "x")  # keeps its issuer
    assert store.user("A", "before-sk").issuer == acct.subject
    store.assert_valid()
