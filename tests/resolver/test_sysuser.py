"""The temporary system user and the delete request, decoded back with nscpy.jwt."""

from __future__ import annotations

import pytest

from nscpy import jwt, keys
from nscpy.errors import NscValueError
from nscpy.resolver import (
    NoSystemAccount,
    NoSystemSeed,
    delete_request_jwt,
    temporary_system_user,
)
from nscpy.resolver.sysuser import TEMPORARY_USER_PUBLISH

NOW = 1_800_000_000


def test_signed_by_the_system_account_identity() -> None:
    sys_kp = keys.create_pair(keys.Prefix.ACCOUNT)
    user = temporary_system_user(sys_kp, sys_kp.public_key, NOW)
    claims = jwt.decode(user.jwt)
    assert isinstance(claims, jwt.UserClaims)
    assert claims.name == "nscpy temporary push user"
    assert (claims.issued_at, claims.expires) == (NOW, NOW + 120) == (NOW, user.expires)
    assert claims.issuer == sys_kp.public_key
    assert claims.issuer_account == ""
    assert claims.subject == user.public_key == keys.KeyPair.from_seed(user.seed).public_key
    assert claims.pub.allow == list(TEMPORARY_USER_PUBLISH)
    assert claims.pub.allow[:3] == [
        "$SYS.REQ.CLAIMS.LIST",
        "$SYS.REQ.CLAIMS.UPDATE",
        "$SYS.REQ.CLAIMS.DELETE",
    ]
    assert claims.sub.allow == ["_INBOX.>"]
    assert user.seed not in repr(user)


def test_signed_by_a_signing_key_names_the_issuer_account() -> None:
    sys_pub = keys.create_pair(keys.Prefix.ACCOUNT).public_key
    signing = keys.create_pair(keys.Prefix.ACCOUNT)
    claims = jwt.decode(temporary_system_user(signing, sys_pub, NOW).jwt)
    assert isinstance(claims, jwt.UserClaims)
    assert claims.issuer == signing.public_key
    assert claims.issuer_account == sys_pub


def test_missing_pieces_have_their_own_errors() -> None:
    sys_kp = keys.create_pair(keys.Prefix.ACCOUNT)
    with pytest.raises(NoSystemAccount, match="the operator names no system account"):
        temporary_system_user(sys_kp, None, NOW)
    with pytest.raises(NoSystemAccount, match="must be an account public key"):
        temporary_system_user(sys_kp, "OABC", NOW)
    with pytest.raises(NoSystemSeed, match=f"no seed for system account {sys_kp.public_key}"):
        temporary_system_user(None, sys_kp.public_key, NOW)
    operator = keys.create_pair(keys.Prefix.OPERATOR)
    with pytest.raises(
        NoSystemSeed, match=r"signed by an account key \(SA...\), got an operator seed"
    ):
        temporary_system_user(operator, sys_kp.public_key, NOW)


def test_delete_request_is_self_signed_generic_claims() -> None:
    operator = keys.create_pair(keys.Prefix.OPERATOR)
    accounts = [keys.create_pair(keys.Prefix.ACCOUNT).public_key for _ in range(2)]
    claims = jwt.decode_generic(delete_request_jwt(operator, accounts, NOW))
    assert claims.subject == claims.issuer == operator.public_key
    assert claims.data["accounts"] == accounts
    assert claims.issued_at == NOW


def test_delete_request_refuses_bad_input() -> None:
    operator = keys.create_pair(keys.Prefix.OPERATOR)
    account = keys.create_pair(keys.Prefix.ACCOUNT)
    with pytest.raises(NscValueError, match="signed by an operator key, got an account key"):
        delete_request_jwt(account, [account.public_key], NOW)
    with pytest.raises(NscValueError, match="needs at least one account"):
        delete_request_jwt(operator, [], NOW)
    with pytest.raises(NscValueError, match="can only delete account public keys"):
        delete_request_jwt(operator, [operator.public_key], NOW)
