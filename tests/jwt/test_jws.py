"""jws.verify_payload() verifies a token exactly as decode() does, without claim classes."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nscpy import jwt
from nscpy.jwt import claims, codec, jws
from nscpy.keys import KeyPair, Prefix, create_pair

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pair(prefix: Prefix, byte: int) -> KeyPair:
    return create_pair(prefix, rng=lambda n: bytes([byte]) * n)


OPERATOR = _pair(Prefix.OPERATOR, 21)
ACCOUNT = _pair(Prefix.ACCOUNT, 22)
USER = _pair(Prefix.USER, 23)


def _vectors() -> list[dict[str, Any]]:
    from tests.conftest import DATA

    return list(json.loads((DATA / "vectors.json").read_text())["jwts"])


def _signed(payload: dict[str, Any], signer: KeyPair) -> str:
    """A token over any payload, signed as Go signs v2 tokens."""
    body = jws.b64encode(json.dumps(payload).encode())
    signing_input = f"{jws.HEADER_B64}.{body}"
    return f"{signing_input}.{jws.b64encode(signer.sign(signing_input.encode()))}"


def _user_token() -> str:
    user = jwt.UserClaims.new(USER.public_key)
    user.name = "ü"
    user.pub = jwt.Permission(["a.>"], ["b"])
    user.tags = ["x"]
    return jwt.encode(user, ACCOUNT, iat=1_700_000_000)


def _outcome(fn: Any, token: str) -> tuple[str, Any]:
    try:
        return "ok", fn(token)
    except jwt.JWTError as exc:
        return type(exc).__name__, str(exc)


def test_tables_match_the_claim_classes() -> None:
    assert jws.LIB_VERSION == claims.LIB_VERSION
    assert set(jws.ISSUER_ROLES) == set(codec._KIND_HOMES)
    for kind, roles in jws.ISSUER_ROLES.items():
        cls = codec._KINDS[kind]
        assert cls.CLAIM_TYPE == kind
        assert cls.EXPECTED_ISSUERS == roles


@pytest.mark.parametrize("vector", _vectors(), ids=lambda v: v["description"][:50])
def test_go_vectors(vector: dict[str, Any]) -> None:
    decoded, verified = (
        _outcome(jwt.decode, vector["token"]),
        _outcome(jws.verify_payload, vector["token"]),
    )
    assert decoded[0] == verified[0]
    if verified[0] == "ok":
        # the token's own payload, key order included (older Go libraries omit fields that
        # decode().to_json_dict() writes, such as an empty authorization)
        assert json.dumps(verified[1]) == json.dumps(json.loads(vector["payload_json"]))
    else:
        assert verified == decoded


@given(
    st.data(),
    st.sampled_from(["", "ABCxyz019_-", ".", "=", "\n", "é", "{"]),
)
@FAST
def test_tampered_tokens_fail_or_pass_together(data: st.DataObject, alphabet: str) -> None:
    token = _user_token()
    start = data.draw(st.integers(0, len(token) - 1))
    end = data.draw(st.integers(start, min(len(token), start + 3)))
    bad = (
        token[:start]
        + data.draw(st.text(alphabet, max_size=3) if alphabet else st.just(""))
        + token[end:]
    )
    decoded, verified = _outcome(jwt.decode, bad), _outcome(jws.verify_payload, bad)
    assert (decoded[0] == "ok") == (verified[0] == "ok")
    if verified[0] == "ok":
        assert json.dumps(verified[1]) == json.dumps(decoded[1].to_json_dict())
        assert jws.issuer_of(verified[1]) == decoded[1].issuer


iss_keys = st.sampled_from(["iss", "ISS", "Iss", "iSs"])
iss_values = st.one_of(st.none(), st.just(ACCOUNT.public_key), st.text(max_size=3), st.integers())


@given(st.lists(st.tuples(iss_keys, iss_values), max_size=4))
@FAST
def test_issuer_is_read_as_the_claims_read_it(entries: list[tuple[str, Any]]) -> None:
    payload: dict[str, Any] = {"sub": USER.public_key, "nats": {"type": "user", "version": 2}}
    for key, value in entries:
        payload.pop(key, None)  # re-insert: a JSON object's later key comes later
        payload[key] = value
    built, read = _outcome(jwt.UserClaims.from_json_dict, payload), _outcome(jws.issuer_of, payload)  # type: ignore[arg-type]
    if built[0] == "ok":
        assert read == ("ok", built[1].issuer)
    else:
        assert read == built


def test_wrongly_typed_fields_are_decode_errors_only() -> None:
    payload = {
        "iss": ACCOUNT.public_key,
        "sub": USER.public_key,
        "nats": {"pub": 5, "type": "user", "version": 2},
    }
    token = _signed(payload, ACCOUNT)
    assert jws.verify_payload(token) == payload
    with pytest.raises(jwt.MalformedToken, match="'pub' must be an object"):
        jwt.decode(token)


def test_issuer_role_and_signature_are_checked() -> None:
    payload = {
        "iss": OPERATOR.public_key,
        "sub": USER.public_key,
        "nats": {"type": "user", "version": 2},
    }
    with pytest.raises(jwt.UnexpectedIssuer, match="role account"):
        jws.verify_payload(_signed(payload, OPERATOR))
    payload["iss"] = ACCOUNT.public_key
    with pytest.raises(jwt.BadSignature, match="V2 signature"):
        jws.verify_payload(_signed(payload, OPERATOR))
    for token, error in [
        ("a.b", jwt.MalformedToken),
        ("x" * (jws.MAX_TOKEN_SIZE + 1), jwt.TokenTooLarge),
        (
            _signed({**payload, "nats": {"type": "user", "version": 3}}, ACCOUNT),
            jwt.UnsupportedVersion,
        ),
        (
            _signed({**payload, "nats": {"type": "server", "version": 2}}, ACCOUNT),
            jwt.MalformedToken,
        ),
    ]:
        with pytest.raises(error):
            jws.verify_payload(token)
        with pytest.raises(error):
            jwt.decode(token)


@pytest.mark.e2e
def test_verify_payload_builds_no_claim_classes() -> None:
    code = (
        "import sys\nfrom nscpy.jwt.jws import verify_payload\n"
        f"print(verify_payload({_user_token()!r})['name'])\n"
        "print([m for m in ('dataclasses', 'nscpy.jwt.claims') if m in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.splitlines() == ["ü", "[]"]


@given(st.binary(max_size=80), st.text("AZaz09-_+/=\r\n.", max_size=12))
@FAST
def test_base64url_matches_the_base64_module(data: bytes, garbage: str) -> None:
    import base64
    import binascii

    text = jws.b64encode(data)
    assert text == base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    assert jws.b64decode(text, "x") == data
    clean = garbage.replace("\r", "").replace("\n", "")  # Go skips CR and LF
    try:
        expected: bytes | None = base64.urlsafe_b64decode(clean + "=" * (-len(clean) % 4))
    except (binascii.Error, ValueError):
        expected = None
    try:
        got: bytes | None = jws.b64decode(garbage, "x")
    except jwt.MalformedToken:
        got = None
    if got is not None:  # whatever jws accepts, base64 reads the same way
        assert got == expected
