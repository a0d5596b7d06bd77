"""Each way a key, seed, signature or sealed box can be wrong raises its own error and says why."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

import pytest

from nscpy import keys
from nscpy.errors import NscValueError
from nscpy.keys import Prefix

# deterministic keys from vectors.json ('user', 'account', 'curve', 'curve2')
USER_SEED = "SUAEEZELRKJR2NLAP7ONPVY4DQQBPW22VAGE3IWBP4BELOKC2V5S34COOU"
USER_PUB = "UAKY3BV2EVDHWDRFTUN22DEQL2WXQP7B36TJLO2D6ML7FTUVLNL3357B"
ACCOUNT_PUB = "ACLMDBXOIMC4QK524DAL2TNX2NVBNA7NTWXEMQAPHGBQTNU2E7AYLO4S"
CURVE_SEED = "SXAN2HVDM6X4LLA3E3ONVPZHEFNPHPCNCOKM65VHOE3SVYXRAAJW6GQBGY"
CURVE2_SEED = "SXAA67TKX7PXSPC7HM7SENNQRLPC3G4TELY3YXIKLLAJ5MLUDALR2KKD4Y"


def armor(body: bytes) -> str:
    """Base32 of body + its CRC, computed here independently of nscpy: a well-formed string."""
    crc = binascii.crc_hqx(body, 0).to_bytes(2, "little")
    return base64.b32encode(body + crc).decode().rstrip("=")


def replace_char(text: str, index: int) -> str:
    """text with one base32 character swapped for another."""
    new = "B" if text[index] != "B" else "C"
    return text[:index] + new + text[index + 1 :]


@pytest.fixture
def curve_pair() -> keys.CurveKeyPair:
    return keys.CurveKeyPair.from_seed(CURVE_SEED)


@pytest.fixture
def curve2_pair() -> keys.CurveKeyPair:
    return keys.CurveKeyPair.from_seed(CURVE2_SEED)


def test_error_tree() -> None:
    for name in (
        "InvalidEncoding",
        "InvalidChecksum",
        "InvalidPrefix",
        "InvalidSeed",
        "InvalidPublicKey",
        "InvalidSignature",
        "InvalidKeyOperation",
        "InvalidEncrypted",
        "InvalidEncVersion",
        "CouldNotDecrypt",
    ):
        cls = getattr(keys, name)
        assert issubclass(cls, keys.NKeyError)
    assert issubclass(keys.NKeyError, NscValueError)
    assert issubclass(keys.NKeyError, ValueError)


# --- base32 and length ------------------------------------------------------------------------


def test_non_base32_character() -> None:
    with pytest.raises(keys.InvalidEncoding, match="outside upper-case base32: 'u'"):
        keys.decode_public(USER_PUB.lower())
    with pytest.raises(keys.InvalidEncoding, match="seed has a character .* '1'"):
        keys.decode_seed(USER_SEED[:10] + "1" + USER_SEED[11:])
    with pytest.raises(keys.InvalidEncoding, match="private key has a character .* '='"):
        keys.decode(Prefix.PRIVATE, "P" + "=" * 55)


def test_bad_length() -> None:
    with pytest.raises(keys.InvalidPublicKey, match="^public key must be 56 characters, got 55$"):
        keys.decode_public(USER_PUB[:-1])
    with pytest.raises(keys.InvalidSeed, match="^seed must be 58 characters, got 57$"):
        keys.decode_seed(USER_SEED[:-1])
    with pytest.raises(keys.InvalidEncoding, match="private key must be 56 or 108 characters"):
        keys.decode(Prefix.PRIVATE, "PA")
    with pytest.raises(keys.InvalidPublicKey, match="got 0"):
        keys.decode_public("")


def test_surrounding_whitespace_is_rejected_with_a_hint() -> None:
    for text in (USER_PUB + "\n", " " + USER_PUB, USER_PUB + "\r\n"):
        with pytest.raises(keys.InvalidPublicKey, match="remove the surrounding whitespace"):
            keys.decode_public(text)
    with pytest.raises(keys.InvalidSeed, match="remove the surrounding whitespace"):
        keys.decode_seed(USER_SEED + "\n")


def test_non_string_input() -> None:
    with pytest.raises(keys.InvalidPublicKey, match="public key must be a string, got bytes"):
        keys.decode_public(USER_PUB.encode())  # type: ignore[arg-type]
    with pytest.raises(keys.InvalidSeed, match="seed must be a string, got bytes"):
        keys.decode_seed(USER_SEED.encode())  # type: ignore[arg-type]
    assert not keys.is_valid_public_key(USER_PUB.encode())


def test_non_canonical_spare_bits() -> None:
    # ...COOU and ...COOV decode to the same 36 bytes; only the canonical one is accepted
    with pytest.raises(keys.InvalidEncoding, match=r"not canonical base32 \(spare bits"):
        keys.decode_seed(USER_SEED[:-1] + "V")


# --- checksum -----------------------------------------------------------------------------------


def test_bad_crc() -> None:
    with pytest.raises(keys.InvalidChecksum, match="^public key has an invalid checksum$"):
        keys.decode_public(replace_char(USER_PUB, 20))
    with pytest.raises(keys.InvalidChecksum, match="^seed has an invalid checksum$"):
        keys.decode_seed(replace_char(USER_SEED, 20))
    private = keys.KeyPair.from_seed(USER_SEED).private_key
    with pytest.raises(keys.InvalidChecksum, match="^private key has an invalid checksum$"):
        keys.decode(Prefix.PRIVATE, replace_char(private, 50))


# --- prefixes and roles -------------------------------------------------------------------------


def test_wrong_prefix_for_the_expected_role() -> None:
    with pytest.raises(keys.InvalidPrefix, match=r"expected account key \(A\.\.\.\), got user"):
        keys.decode(Prefix.ACCOUNT, USER_PUB)
    assert not keys.is_valid_public_key(USER_PUB, Prefix.ACCOUNT)
    assert keys.is_valid_public_key(ACCOUNT_PUB, Prefix.ACCOUNT)


def test_invalid_prefix_byte_with_valid_crc() -> None:
    raw = bytes(32)
    # 0xA5: the user prefix with its low bits set; Go's typed check masks those bits, we do not
    with pytest.raises(keys.InvalidPublicKey, match="invalid role prefix 'U'"):
        keys.decode_public(armor(b"\xa5" + raw))
    # seed and private markers are not public roles
    with pytest.raises(keys.InvalidPublicKey, match="invalid role prefix 'P'"):
        keys.decode_public(armor(bytes((Prefix.PRIVATE,)) + raw))
    with pytest.raises(keys.InvalidPublicKey, match="invalid role prefix 'Z'"):
        keys.decode_public(armor(bytes((25 << 3,)) + raw))


def test_bad_seed_header_with_valid_crc() -> None:
    raw = bytes(32)
    with pytest.raises(keys.InvalidSeed, match="must start with 'S'"):
        keys.decode_seed(armor(bytes((Prefix.PRIVATE, 0)) + raw))
    # 'S' + the private marker as the role: well formed, but P is not a role a seed can have
    b1 = Prefix.SEED | (Prefix.PRIVATE >> 5)
    b2 = (Prefix.PRIVATE & 0x1F) << 3
    with pytest.raises(keys.InvalidSeed, match="invalid role letter 'P'"):
        keys.decode_seed(armor(bytes((b1, b2)) + raw))
    # the low 3 bits of the second header byte are always zero in a real seed
    with pytest.raises(keys.InvalidSeed, match="followed by a role letter"):
        keys.decode_seed(armor(bytes((0x95, 0x01)) + raw))


def test_encoders_refuse_what_would_not_decode() -> None:
    with pytest.raises(keys.InvalidPrefix, match="use encode_seed"):
        keys.encode(Prefix.SEED, bytes(32))
    with pytest.raises(keys.InvalidPrefix, match="a seed must be for a public role, not private"):
        keys.encode_seed(Prefix.PRIVATE, bytes(32))
    with pytest.raises(keys.InvalidSeed, match="^raw seed must be 32 bytes, got 31$"):
        keys.encode_seed(Prefix.USER, bytes(31))
    with pytest.raises(keys.InvalidPublicKey, match="^user public key must be 32 bytes, got 33$"):
        keys.encode(Prefix.USER, bytes(33))
    with pytest.raises(keys.InvalidEncoding, match="^private key must be 32 or 64 bytes, got 48$"):
        keys.encode(Prefix.PRIVATE, bytes(48))
    with pytest.raises(keys.InvalidSeed, match="got 16"):
        keys.create_pair(Prefix.USER, rng=lambda n: bytes(16))


def test_role_names_and_letters() -> None:
    assert Prefix.from_letter("u") is Prefix.USER
    assert Prefix.from_name("curve") is Prefix.CURVE
    assert Prefix.from_name("x25519") is Prefix.CURVE
    with pytest.raises(keys.InvalidPrefix, match=r"'S' is not an NKey role letter \(O, A, U"):
        Prefix.from_letter("S")
    with pytest.raises(keys.InvalidPrefix, match="'seed' is not an NKey role"):
        Prefix.from_name("seed")


def test_seed_passed_as_public_key() -> None:
    with pytest.raises(keys.InvalidPublicKey, match="expected a public key, got .* seed"):
        keys.decode_public(USER_SEED)
    with pytest.raises(keys.InvalidPublicKey, match="looks like a seed"):
        keys.from_public_key(USER_SEED)
    assert not keys.is_valid_public_key(USER_SEED)


def test_public_key_passed_as_seed() -> None:
    with pytest.raises(keys.InvalidSeed, match=r"expected a seed \(S\.\.\.\), got .* public key"):
        keys.decode_seed(USER_PUB)
    with pytest.raises(keys.InvalidSeed, match="looks like a public key"):
        keys.from_seed(USER_PUB)
    with pytest.raises(keys.InvalidSeed, match="looks like a public key"):
        keys.KeyPair.from_seed(USER_PUB)


def test_curve_seed_to_ed25519_key_pair() -> None:
    with pytest.raises(keys.InvalidKeyOperation, match=r"curve seed \(SX\.\.\.\) makes a Curve"):
        keys.KeyPair.from_seed(CURVE_SEED)


def test_ed25519_seed_to_curve_key_pair() -> None:
    with pytest.raises(keys.InvalidKeyOperation, match=r"expected a curve seed .* got a user"):
        keys.CurveKeyPair.from_seed(USER_SEED)


# --- signing and verifying ----------------------------------------------------------------------


def test_curve_keys_cannot_sign_or_verify(curve_pair: keys.CurveKeyPair) -> None:
    with pytest.raises(keys.InvalidKeyOperation, match="^a curve .* key cannot sign$"):
        curve_pair.sign(b"data")
    curve_public = keys.from_public_key(curve_pair.public_key)
    with pytest.raises(keys.InvalidKeyOperation, match="cannot verify signatures"):
        curve_public.verify(b"data", bytes(64))


def test_bad_signatures() -> None:
    kp = keys.KeyPair.from_seed(USER_SEED)
    pub = kp.public()
    sig = kp.sign(b"data")
    with pytest.raises(keys.InvalidSignature, match="^signature must be 64 bytes, got 63$"):
        pub.verify(b"data", sig[:-1])
    with pytest.raises(keys.InvalidSignature, match="^signature verification failed$"):
        pub.verify(b"datA", sig)
    with pytest.raises(keys.InvalidSignature, match="^signature verification failed$"):
        kp.verify(b"data", bytes([sig[0] ^ 1]) + sig[1:])
    other = keys.create_pair(Prefix.USER).public()
    with pytest.raises(keys.InvalidSignature):
        other.verify(b"data", sig)
    assert not other.is_valid_signature(b"data", sig)
    assert not pub.is_valid_signature(b"data", b"short")


# --- xkv1 sealed boxes --------------------------------------------------------------------------


def test_open_rejects_short_input(
    curve_pair: keys.CurveKeyPair, curve2_pair: keys.CurveKeyPair
) -> None:
    sender = curve2_pair.public_key
    # Go requires len > 28: a header with nothing after it is refused before any crypto
    for size in (0, 4, 27, 28):
        with pytest.raises(keys.InvalidEncrypted, match="must be over 28 bytes"):
            curve_pair.open((b"xkv1" + bytes(24))[:size], sender)
    # 29 bytes passes the length check and fails authentication instead
    with pytest.raises(keys.CouldNotDecrypt):
        curve_pair.open(b"xkv1" + bytes(25), sender)


def test_open_rejects_wrong_version(
    curve_pair: keys.CurveKeyPair, curve2_pair: keys.CurveKeyPair
) -> None:
    sealed = curve2_pair.seal(b"hello", curve_pair.public_key)
    with pytest.raises(keys.InvalidEncVersion, match="does not start with the xkv1 marker"):
        curve_pair.open(b"xkv2" + sealed[4:], curve2_pair.public_key)


def test_open_rejects_wrong_sender(
    curve_pair: keys.CurveKeyPair, curve2_pair: keys.CurveKeyPair
) -> None:
    sealed = curve2_pair.seal(b"hello", curve_pair.public_key)
    stranger = keys.create_curve_pair().public_key
    with pytest.raises(keys.CouldNotDecrypt, match="wrong key or tampered message"):
        curve_pair.open(sealed, stranger)
    # not a bug: NaCl box derives one shared key per pair of keys, so (as in Go) the sender
    # can open its own box; xkv1 authenticates the pair, not the direction
    assert curve2_pair.open(sealed, curve_pair.public_key) == b"hello"
    # a sender that is not a curve key at all is refused before decrypting
    with pytest.raises(keys.InvalidPublicKey, match=r"not a curve \(X\.\.\.\) public key"):
        curve_pair.open(sealed, USER_PUB)
    with pytest.raises(keys.InvalidPublicKey, match="not a curve"):
        curve_pair.open(sealed, "X" * 56)


def test_open_rejects_every_tampered_byte(
    curve_pair: keys.CurveKeyPair, curve2_pair: keys.CurveKeyPair
) -> None:
    sealed = curve2_pair.seal(b"attack at dawn", curve_pair.public_key)
    for i in range(4, len(sealed)):  # nonce, tag and ciphertext; bytes 0..3 are the marker
        tampered = sealed[:i] + bytes([sealed[i] ^ 0x01]) + sealed[i + 1 :]
        with pytest.raises(keys.CouldNotDecrypt, match="^could not decrypt: wrong key"):
            curve_pair.open(tampered, curve2_pair.public_key)
    with pytest.raises(keys.CouldNotDecrypt):
        curve_pair.open(sealed[:-1], curve2_pair.public_key)
    with pytest.raises(keys.CouldNotDecrypt):
        curve_pair.open(sealed + b"\x00", curve2_pair.public_key)


def test_seal_rejects_non_curve_recipient(curve_pair: keys.CurveKeyPair) -> None:
    with pytest.raises(keys.InvalidPublicKey, match="expected x25519 key .*, got user"):
        curve_pair.seal(b"hello", USER_PUB)


def test_messages_are_one_line() -> None:
    attempts: list[Callable[[], object]] = [
        lambda: keys.decode_public(USER_PUB + "\n"),
        lambda: keys.decode_seed("S" * 58),
        lambda: keys.decode_seed(USER_PUB),
        lambda: keys.decode(Prefix.OPERATOR, USER_PUB),
        lambda: keys.KeyPair.from_seed(CURVE_SEED),
    ]
    for attempt in attempts:
        with pytest.raises(keys.NKeyError) as info:
            attempt()
        assert "\n" not in str(info.value)
        assert str(info.value)
