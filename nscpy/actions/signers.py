"""Choosing the key that signs a claim: the one signer rule, and -K (role, key, seed or file)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nscpy import keys
from nscpy.actions.errors import NoSigner, UsageProblem
from nscpy.actions.lookup import key_for_role
from nscpy.jwt import AccountClaims, OperatorClaims, SigningKeys, parse_decorated_seed
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
    if not candidates:
        raise NoSigner(f"no key may sign {what}: add a signing key first (--sk generate)")
    for key in candidates:
        seed = keystore.get(key)
        if seed is not None:
            return load_key_value(seed, keystore)
    raise NoSigner(
        f"no key that may sign {what} is in the keystore (tried {', '.join(candidates)}); "
        "pass one with -K or import it with 'nscpy import keys'"
    )


# -- the signer rule ---------------------------------------------------------------------------
# One rule for every write (add, edit, reissue, revoke, imports/exports, rotate, renew, push's
# pre-check, plan/apply): which keys may sign an entity, in the order they are tried.
#   * a strict operator (--require-signing-keys) never lets an identity key sign what is
#     beneath it: accounts are signed by operator signing keys, users and activations by
#     account signing keys (nats-server drops the account identity key from the signers of an
#     account issued by a strict operator's signing key);
#   * a signing key is preferred to the identity key (so the identity seed can stay offline;
#     nsc tries the identity first): unscoped signing keys, then the identity key unless
#     strict, then scoped keys, which make scoped users and never sign activations;
#   * an edit prefers the key that signed the claim before, when it still may sign (so a
#     scoped user stays scoped and a signing-key-issued account keeps its issuer).


def account_signer_keys(op: OperatorClaims) -> list[str]:
    """Operator keys that may sign account JWTs, in the order they are tried."""
    if op.strict_signing_key_usage:
        return list(op.signing_keys)
    return [*op.signing_keys, op.subject]


def user_signer_keys(op: OperatorClaims | None, acct: AccountClaims) -> list[str]:
    """Account keys that may sign user JWTs: unscoped signing keys, identity (unless strict),
    then scoped keys (a scoped key makes a scoped user, so it is only picked when asked for
    by -K ROLE, when the user was scoped before, or when nothing else may sign)."""
    plain = [k for k, scope in sorted(acct.signing_keys.items()) if scope is None]
    scoped = [k for k, scope in sorted(acct.signing_keys.items()) if scope is not None]
    identity = [] if op is not None and op.strict_signing_key_usage else [acct.subject]
    return [*plain, *identity, *scoped]


def unscoped_signer_keys(op: OperatorClaims | None, acct: AccountClaims) -> list[str]:
    """Account keys that may sign activations (and unlimited users): no scoped keys."""
    return [k for k in user_signer_keys(op, acct) if acct.signing_keys.get_scope(k) is None]


def may_sign_account(op: OperatorClaims, issuer: str) -> bool:
    """True when issuer may sign an account of op (push's pre-check, validate, rotation)."""
    return issuer in account_signer_keys(op)


def may_sign_user(op: OperatorClaims | None, acct: AccountClaims, issuer: str) -> bool:
    """True when issuer may sign a user of acct."""
    return issuer in user_signer_keys(op, acct)


def prefer(candidates: list[str], first: str) -> list[str]:
    """candidates with `first` moved to the front (nsc prefers the key that issued the claim)."""
    if first in candidates:
        return [first, *(c for c in candidates if c != first)]
    return candidates


def account_signer(
    keystore: KeyStore, op: OperatorClaims, value: str | None = None, *, issued_by: str = ""
) -> keys.KeyPair:
    """The operator key that signs an account JWT: -K, else its previous issuer, else the first."""
    return resolve_signer(
        keystore,
        value,
        prefer(account_signer_keys(op), issued_by),
        what=_accounts_of(op),
    )


def user_signer(
    keystore: KeyStore,
    op: OperatorClaims | None,
    acct: AccountClaims,
    value: str | None = None,
    *,
    issued_by: str = "",
) -> keys.KeyPair:
    """The account key that signs a user JWT: -K (key or scoped role), else its previous
    issuer, else the first allowed key whose seed is stored."""
    return resolve_signer(
        keystore,
        value,
        prefer(user_signer_keys(op, acct), issued_by),
        what=f"users of account {acct.name or acct.subject!r}{_strict_note(op)}",
        scopes=acct.signing_keys,
    )


def activation_signer(
    keystore: KeyStore, op: OperatorClaims | None, acct: AccountClaims, value: str | None = None
) -> keys.KeyPair:
    """The account key that signs an activation token."""
    return resolve_signer(
        keystore,
        value,
        unscoped_signer_keys(op, acct),
        what=f"activations of account {acct.name or acct.subject!r}{_strict_note(op)}",
    )


def _accounts_of(op: OperatorClaims) -> str:
    return f"accounts of operator {op.name or op.subject!r}{_strict_note(op)}"


def _strict_note(op: OperatorClaims | None) -> str:
    if op is not None and op.strict_signing_key_usage:
        return " (the operator requires signing keys: identity keys may not sign)"
    return ""
