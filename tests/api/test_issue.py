"""nscpy.api.issue (stateless issuance): users minted from an account key, a signing key or a
scoped key are the users `add user` makes, and the account accepts them."""

from __future__ import annotations

from pathlib import Path

import pytest

from nscpy import keys
from nscpy.api import PermissionSpec, ScopeEdit, Store, UsageProblem, UserIssuer, issue_user
from nscpy.jwt import (
    UserClaims,
    ValidationResults,
    decode,
    format_user_creds,
    validate_user_against_account,
)
from nscpy.jwt.creds import parse_decorated_jwt, parse_decorated_seed

NOW = 1_800_000_000


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(home=tmp_path / "nsc")
    s.add_operator("O")
    s.add_account("O", "A")
    return s


def _accepted(store: Store, token: str) -> UserClaims:
    claims = decode(token)
    assert isinstance(claims, UserClaims)
    results = ValidationResults()
    validate_user_against_account(claims, store.account("O", "A"), results)
    assert results.errors() == []
    return claims


def test_issued_by_the_account_key(store: Store) -> None:
    account = store.account("O", "A").subject
    seed = store.seed(account)
    assert seed is not None
    user = issue_user(
        seed, "svc-1", permissions=PermissionSpec(allow_sub=["jobs.>"]), expires=NOW + 60, now=NOW
    )
    claims = _accepted(store, user.jwt)
    assert (claims.name, claims.issuer, claims.issuer_account) == ("svc-1", account, "")
    assert (claims.sub.allow, claims.expires, claims.issued_at) == (["jobs.>"], NOW + 60, NOW)
    assert user.creds == format_user_creds(user.jwt, user.seed)
    assert parse_decorated_jwt(user.creds) == user.jwt
    assert parse_decorated_seed(user.creds) == user.seed
    assert keys.from_seed(user.seed).public_key == user.public_key == claims.subject
    assert user.seed not in repr(user)


def test_issued_by_a_scoped_signing_key(store: Store) -> None:
    saved = store.edit_signing_key("O", "A", ScopeEdit(key="generate", role="svc"))
    account = store.account("O", "A")
    scoped = next(k for k, s in account.signing_keys.items() if s is not None)
    seed = store.seed(scoped)
    assert seed is not None and saved.public_key == account.subject
    issuer = UserIssuer(seed, account=account.subject, scoped=True)
    claims = _accepted(store, issuer.issue("edge", now=NOW).jwt)
    assert (claims.issuer, claims.issuer_account) == (scoped, account.subject)
    assert claims.has_empty_permissions()
    with pytest.raises(UsageProblem, match="scoped"):
        issuer.issue("edge", permissions=PermissionSpec(allow_pub=["x"]))


def test_refuses_keys_that_cannot_sign_users() -> None:
    with pytest.raises(UsageProblem, match="account key"):
        UserIssuer(keys.create_pair(keys.Prefix.OPERATOR).seed)
    signing = keys.create_pair(keys.Prefix.ACCOUNT)
    with pytest.raises(UsageProblem, match="account public key"):
        UserIssuer(signing, account="not-a-key")


def test_an_issuer_from_the_store_picks_keys_as_add_user_does(store: Store) -> None:
    store.edit_signing_key("O", "A", ScopeEdit(key="generate", role="svc"))
    account = store.account("O", "A")
    scoped = store.user_issuer("O", "A", signer="svc")
    claims = _accepted(store, scoped.issue("edge", now=NOW).jwt)
    assert claims.issuer_account == account.subject and claims.has_empty_permissions()
    plain = store.user_issuer("O", "A")  # no signer: the account identity key, as add user
    assert plain.signer.public_key == account.subject
