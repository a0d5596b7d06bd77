"""Validate rules (Go's messages) and the account-to-user chain checks."""

from __future__ import annotations

import pytest

from nscpy import jwt
from nscpy.keys import KeyPair, Prefix, create_pair

NOW = 1_800_000_000


def _pair(prefix: Prefix, byte: int) -> KeyPair:
    return create_pair(prefix, rng=lambda n: bytes([byte]) * n)


OPERATOR = _pair(Prefix.OPERATOR, 1)
ACCOUNT = _pair(Prefix.ACCOUNT, 2)
SIGNER = _pair(Prefix.ACCOUNT, 3)
SCOPED = _pair(Prefix.ACCOUNT, 4)
USER = _pair(Prefix.USER, 5)
SERVER = _pair(Prefix.SERVER, 6)


def _issues(claims: jwt.AnyClaims, now: int = NOW) -> list[str]:
    results = jwt.ValidationResults()
    claims.validate(results, now=now)
    return [i.description for i in results.issues]


def test_time_checks() -> None:
    user = jwt.UserClaims.new(USER.public_key)
    user.expires = NOW
    assert _issues(user) == []  # at exp exactly it is still valid
    assert _issues(user, NOW + 1) == ["claim is expired"]
    user.expires, user.not_before = 0, NOW + 1
    results = jwt.ValidationResults()
    user.validate(results, now=NOW)
    assert results.warnings() == ["claim is not yet valid"]
    assert not results.is_blocking() and results.is_blocking(include_time_checks=True)


def test_user_rules() -> None:
    user = jwt.UserClaims.new(USER.public_key)
    user.pub.allow = ["a b"]
    user.sub.allow = ["a b c", "q.work workers"]
    user.src = ["10.0.0.1/33", "192.168.1.7/24"]
    user.times = [jwt.TimeRange(start="25:00:00", end="")]
    user.times_location = "Mars/Base"
    user.issuer_account = USER.public_key
    assert _issues(user) == [
        'Permission Subject "a b c" contains too many spaces',
        'Permission Subject "a b" is not allowed to contain queue',
        'invalid cidr "10.0.0.1/33" in user src limits',
        'start in time range is invalid "25:00:00"',
        "time ranges end must contain an end",
        "could not parse iana time zone by name: unknown time zone Mars/Base",
        "account_id is not an account public key",
    ]


def test_operator_rules() -> None:
    operator = jwt.OperatorClaims.new(OPERATOR.public_key)
    operator.operator_service_urls = ["nats://u:p@host:4222", "http://host", "nats://h/x"]
    operator.signing_keys = [ACCOUNT.public_key]
    operator.system_account = OPERATOR.public_key
    operator.assert_server_version = "2.x.0"
    assert _issues(operator) == [
        'operator service url "nats://u:p@host:4222" - credentials are not supported',
        "operator service url \"http://host\" - protocol not supported (only 'nats', 'tls',"
        " 'ws', 'wss' only)",
        'operator service url "nats://h/x" - paths are not supported',
        f"{ACCOUNT.public_key} is not an operator public key",
        f"{OPERATOR.public_key} is not an account public key",
        "assert server version error: asserted server version cant parse x to int",
    ]
    operator.account_server_url = "no-scheme"
    with pytest.raises(jwt.InvalidClaims, match="requires a protocol"):
        jwt.encode(operator, OPERATOR, iat=NOW)


def test_account_rules() -> None:
    account = jwt.AccountClaims.new(ACCOUNT.public_key)
    account.exports = [
        jwt.Export(subject="svc.>", type="service", response_type="Bogus"),
        jwt.Export(subject="svc.a", type="service"),
        jwt.Export(subject="st.*", type="stream", account_token_position=1, allow_trace=True),
    ]
    account.imports = [
        jwt.Import(subject="x.*", account=SIGNER.public_key, type="service", local_subject="y"),
        jwt.Import(subject="x.a", account=SIGNER.public_key, type="service"),
    ]
    account.mappings = {"m": [jwt.WeightedMapping("a", 60), jwt.WeightedMapping("b", 50)]}
    account.trace = jwt.MsgTrace(dest="t.*", sampling=0)
    account.cluster_traffic = "bogus"
    issues = _issues(account)
    assert 'overlapping subject namespace for "x.a" and "y" in same account' not in issues
    assert "subject does not contain enough * or reference wildcards $[0-9]" in issues
    assert 'invalid response type for service: "Bogus"' in issues
    assert "AllowTrace only valid for service export" in issues
    assert "Account Token Position 1 matches 'st' but must match a * in: st.*" in issues
    assert 'service export subject "svc.>" already exports "svc.a"' in issues
    assert 'Mapping "m" exceeds 100% among all of it\'s weighted to mappings' in issues
    assert 'the account Trace.Destination subject "t.*" is not a valid publish subject' in issues
    assert 'unknown cluster traffic option: "bogus"' in issues
    assert account.trace.sampling == 100  # Go's Validate rewrites 0 to 100


def test_activation_import_token_checks() -> None:
    activation = jwt.ActivationClaims.new(ACCOUNT.public_key)
    activation.import_subject = "private.>"
    activation.import_type = "service"
    token = jwt.encode(activation, SIGNER, iat=NOW)
    account = jwt.AccountClaims.new(ACCOUNT.public_key)
    account.imports = [
        jwt.Import(subject="private.x", account=SIGNER.public_key, type="service", token=token),
    ]
    assert _issues(account) == []
    account.imports[0].type = "stream"
    account.imports[0].subject = "other.x"
    assert _issues(account) == [
        "mismatch between token import type service and type of import stream",
        'activation token import subject "private.>" doesn\'t match import "other.x"',
    ]
    account.imports[0].token = token[:-3] + "AAA"
    assert _issues(account) == ['import "other.x" contains an invalid activation token']


def test_auth_response_rules() -> None:
    response = jwt.AuthorizationResponseClaims.new(ACCOUNT.public_key)
    assert _issues(response) == [
        "Subject must be a user public key",
        "Audience must be a server public key",
        "Error or Jwt is required",
    ]
    request = jwt.AuthorizationRequestClaims.new(ACCOUNT.public_key)
    assert _issues(request) == ["User nkey is required"]
    with pytest.raises(jwt.UnexpectedIssuer):
        jwt.encode(request, ACCOUNT, iat=NOW)
    assert jwt.decode(jwt.encode(request, SERVER, iat=NOW)).issuer == SERVER.public_key


def test_chain_user_against_account() -> None:
    account = jwt.AccountClaims.new(ACCOUNT.public_key)
    account.signing_keys.add(SIGNER.public_key)
    scope = jwt.UserScope(key=SCOPED.public_key, role="dev")
    account.signing_keys.add_scoped(scope)

    def check(user: jwt.UserClaims) -> list[str]:
        results = jwt.ValidationResults()
        jwt.validate_user_against_account(user, account, results)
        return results.errors()

    user = jwt.UserClaims.new(USER.public_key)
    jwt.encode(user, ACCOUNT, iat=NOW)
    assert check(user) == []
    jwt.encode(user, SIGNER, iat=NOW)
    assert "its issuer_account is empty" in check(user)[0]
    user.issuer_account = ACCOUNT.public_key
    assert check(user) == []
    jwt.encode(user, SCOPED, iat=NOW)
    assert check(user) == ["scoped users require no permissions or limits set"]
    user.set_scoped()
    assert check(user) == []
    token = jwt.encode(user, SCOPED, iat=NOW)
    assert jwt.decode(token).to_json_dict()["nats"] == {
        "pub": {},
        "sub": {},
        "issuer_account": ACCOUNT.public_key,
        "type": "user",
        "version": 2,
    }
    stranger = _pair(Prefix.ACCOUNT, 9)
    jwt.encode(user, stranger, iat=NOW)
    assert "neither account" in check(user)[0]


def test_scoped_user_with_empty_array_on_wire_is_not_empty() -> None:
    payload = {
        "sub": USER.public_key,
        "nats": {"pub": {"allow": []}, "sub": {}, "type": "user", "version": 2},
    }
    user = jwt.UserClaims.from_json_dict(payload)
    assert not user.has_empty_permissions()
    assert jwt.UserClaims.from_json_dict({"nats": {"src": ""}}).wire_empty_arrays


def test_encode_pre_checks() -> None:
    with pytest.raises(jwt.InvalidClaims, match="subject to be user public key"):
        jwt.encode(jwt.UserClaims.new(ACCOUNT.public_key), ACCOUNT, iat=NOW)
    with pytest.raises(jwt.InvalidClaims, match="subject is not set"):
        jwt.encode(jwt.GenericClaims(), ACCOUNT, iat=NOW)
    with pytest.raises(jwt.UnexpectedIssuer):
        jwt.encode(jwt.UserClaims.new(USER.public_key), OPERATOR, iat=NOW)
    bad = jwt.AccountClaims.new(ACCOUNT.public_key)
    bad.exports = [jwt.Export(subject="x", type="bogus")]
    with pytest.raises(jwt.InvalidClaims, match="export type"):
        jwt.encode(bad, OPERATOR, iat=NOW)
    lone = jwt.UserClaims.new(USER.public_key)
    lone.name = "\ud800"
    with pytest.raises(jwt.InvalidClaims, match="surrogate"):
        jwt.encode(lone, ACCOUNT, iat=NOW)


def test_external_signer_and_peek() -> None:
    user = jwt.UserClaims.new(USER.public_key)
    token = jwt.encode_with_signer(user, ACCOUNT.public_key, ACCOUNT.sign, iat=NOW)
    assert token == jwt.encode(jwt.UserClaims.new(USER.public_key), ACCOUNT, iat=NOW)
    forged = token[: token.rindex(".") + 1] + "A" * 86
    with pytest.raises(jwt.BadSignature):
        jwt.decode(forged)
    assert jwt.peek(forged).subject == USER.public_key
    with pytest.raises(jwt.TokenTooLarge):
        jwt.decode("a" * (jwt.MAX_TOKEN_SIZE + 1))
