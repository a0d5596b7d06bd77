"""Go-made known answers: every JWT re-encoded byte for byte, decoded to the expected claims."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from nscpy import jwt
from nscpy.jwt import codec
from nscpy.keys import KeyPair

IAT = 1795876146


def _jwt_vectors() -> list[dict[str, Any]]:
    from tests.conftest import DATA

    return json.loads((DATA / "vectors.json").read_text())["jwts"]


VECTORS = _jwt_vectors()
SIGNED = [v for v in VECTORS if v["signer_seed"]]


def _ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["description"][:50] for v in vectors]


def _decode(vector: dict[str, Any]) -> jwt.AnyClaims:
    if vector["go_claim_type"] == "generic":
        return jwt.decode_generic(vector["token"])
    return jwt.decode(vector["token"])


@pytest.mark.parametrize("vector", SIGNED, ids=_ids(SIGNED))
def test_reencode_byte_for_byte(vector: dict[str, Any]) -> None:
    claims = _decode(vector) if vector["go_decode_ok"] else jwt.decode_generic(vector["token"])
    signer = KeyPair.from_seed(vector["signer_seed"])
    token = jwt.encode(claims, signer, iat=claims.issued_at)
    assert token == vector["token"]
    assert claims.id == vector["jti"]


@pytest.mark.parametrize("vector", SIGNED, ids=_ids(SIGNED))
def test_build_from_payload_json(vector: dict[str, Any]) -> None:
    payload = json.loads(vector["payload_json"])
    kind = payload["nats"].get("type")
    cls = codec._KINDS.get(kind, jwt.GenericClaims)
    claims = cls.from_json_dict(payload)
    claims.id = ""  # the encoder must recompute everything that is derived
    claims.issuer = ""
    token = jwt.encode(claims, KeyPair.from_seed(vector["signer_seed"]), iat=payload["iat"])
    head, body, sig = token.split(".")
    assert head == base64.urlsafe_b64encode(vector["header_json"].encode()).rstrip(b"=").decode()
    assert base64.urlsafe_b64decode(body + "==").decode() == vector["payload_json"]
    assert sig == vector["signature_b64url"]


@pytest.mark.parametrize("vector", VECTORS, ids=_ids(VECTORS))
def test_decode_outcome_and_claims(vector: dict[str, Any]) -> None:
    if not vector["go_decode_ok"]:
        with pytest.raises(jwt.BadSignature, match=vector["go_decode_error"]):
            jwt.decode(vector["token"])
        return
    claims = _decode(vector)
    assert claims.claim_type == vector["go_claim_type"]
    expected = vector["expected_claims"]
    if isinstance(claims, jwt.Claims) and claims.version == 1:
        # Go migrates v1 payloads: top-level type moves into nats, the kind becomes nats.kind
        assert claims.import_subject == expected["nats"]["subject"]  # type: ignore[attr-defined]
        assert claims.import_type == expected["nats"]["type"]  # type: ignore[attr-defined]
        assert claims.issuer == expected["iss"] and claims.subject == expected["sub"]
    elif "authorization" not in expected.get("nats", {}) and vector["go_claim_type"] == "account":
        # an older account token without the (never omitted) authorization object: Go adds it
        got = claims.to_json_dict()
        assert got["nats"].pop("authorization") == {}
        assert got == expected
    else:
        assert claims.to_json_dict() == expected
    results = jwt.ValidationResults()
    claims.validate(results, now=IAT)
    assert [i.description for i in results.issues] == vector["go_validation_issues"]


def test_jti_inputs() -> None:
    for vector in SIGNED:
        claims = _decode(vector) if vector["go_decode_ok"] else jwt.decode_generic(vector["token"])
        claims.id = ""
        assert (
            json.dumps(claims.standard_json_dict(), separators=(",", ":"))
            == vector["jti_input_json"]
        )
        assert jwt.jti_for(claims) == vector["jti"]


def test_activation_hash_id() -> None:
    vector = next(v for v in VECTORS if "extra" in v)
    claims = jwt.decode(vector["token"])
    assert isinstance(claims, jwt.ActivationClaims)
    assert claims.hash_id() == vector["extra"]["hash_id"]


def test_v1_activation_migrates() -> None:
    vector = next(v for v in VECTORS if v["header_json"] == '{"typ":"jwt","alg":"ed25519"}')
    claims = jwt.decode(vector["token"])
    assert isinstance(claims, jwt.ActivationClaims)
    assert claims.version == 1
    assert claims.to_json_dict()["nats"] == {
        "subject": "foo",
        "kind": "service",
        "type": "activation",
        "version": 1,
    }


def test_zero_limits_quirk(vectors: dict[str, Any]) -> None:
    quirk = vectors["go_quirks"][1]
    account = jwt.AccountClaims(subject=KeyPair.from_seed(SIGNED[2]["signer_seed"]).public_key)
    account.imports.append(
        jwt.Import(subject="a.b", account=account.subject, type="stream", name="i")
    )
    account.exports.append(jwt.Export(subject="x.>", type="stream"))
    results = jwt.ValidationResults()
    account.validate(results, now=IAT)
    assert [f"error: {e}" for e in results.errors()] == quirk["go_validation_issues"]
