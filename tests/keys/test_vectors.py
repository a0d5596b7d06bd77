"""Every NKey vector made by Go's nkeys is reproduced."""

from __future__ import annotations

from typing import Any

from nscpy import keys


def test_keys_from_seed_match_go(vectors: dict[str, Any]) -> None:
    for v in vectors["nkeys"]:
        kp = keys.from_seed(v["seed"])
        assert kp.public_key == v["public_key"], v["description"]
        if "private_key" in v:
            assert kp.private_key == v["private_key"], v["description"]
        assert kp.seed == v["seed"]


def test_signature_vector(vectors: dict[str, Any]) -> None:
    s = vectors["signatures"][0]
    kp = keys.from_seed(s["signer_seed"])
    assert isinstance(kp, keys.KeyPair)
    assert kp.sign(s["message"].encode()).hex() == s["signature_hex"]


def test_crc_check_value(vectors: dict[str, Any]) -> None:
    for c in vectors["crc16"]:
        data = c["input_ascii"].encode() if "input_ascii" in c else bytes.fromhex(c["input_hex"])
        assert keys.crc16(data).to_bytes(2, "big").hex() == c["crc_hex"]
