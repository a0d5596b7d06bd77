"""Choosing the key that signs a claim, as nsc does (-K role, key, seed or file; else auto)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nscpy import keys
from nscpy.actions.errors import NoSigner, UsageProblem
from nscpy.actions.lookup import key_for_role
from nscpy.jwt import SigningKeys, parse_decorated_seed
from nscpy.redact import shown
from nscpy.store.keystore import KeyStore


def load_key_value(value: str, keystore: KeyStore) -> keys.KeyPair:
    """A seed, a public key whose seed is stored, or a file holding a seed (plain or decorated)."""
    text = value.strip()
    if text.startswith("S") and len(text) == keys.codec.SEED_LENGTH:
        pair = keys.from_seed(text)
        if not isinstance(pair, keys.KeyPair):
            raise UsageProblem("a curve (SX...) seed cannot sign JWTs")
        return pair
    if keys.is_valid_public_key(text):
        seed = keystore.get(text)
        if seed is None:
            raise NoSigner(f"the keystore has no seed for {text}; import it or pass the seed")
        return load_key_value(seed, keystore)
    path = Path(text).expanduser()
    if path.is_file():
        contents = path.read_text("utf-8", errors="replace")
        seed = parse_decorated_seed(contents) if "-----" in contents else contents.strip()
        # never echo the file's text: a damaged seed is still a secret
        if not (seed.startswith("S") and len(seed) == keys.codec.SEED_LENGTH):
            raise UsageProblem(f"{str(path)!r} does not hold a seed (S..., 58 characters)")
        return load_key_value(seed, keystore)
    raise UsageProblem(
        f"{shown(value)} is not a seed, a public key or a file: pass an S... seed, a stored "
        "public key, a path to a .nk file, '-' (read from stdin), or a signing-key role"
    )


def resolve_signer(
    keystore: KeyStore,
    value: str | None,
    candidates: Sequence[str],
    *,
    what: str,
    scopes: SigningKeys | None = None,
) -> keys.KeyPair:
    """The signer for `what`: -K's key (which must be one of candidates), else the first
    candidate whose seed is in the keystore. A -K naming a scoped role picks that scope's key."""
    if value:
        role_key = key_for_role(scopes, value) if scopes is not None else None
        if role_key is not None:
            seed = keystore.get(role_key)
            if seed is None:
                raise NoSigner(f"the seed of the {value!r} signing key {role_key} is not stored")
            return load_key_value(seed, keystore)
        pair = load_key_value(value, keystore)
        if pair.public_key not in candidates:
            raise NoSigner(
                f"{pair.public_key} may not sign {what}: use one of {', '.join(candidates)}"
            )
        return pair
    for key in candidates:
        seed = keystore.get(key)
        if seed is not None:
            return load_key_value(seed, keystore)
    raise NoSigner(
        f"no key that may sign {what} is in the keystore (tried {', '.join(candidates)}); "
        "pass one with -K or import it with 'nscpy import keys'"
    )
