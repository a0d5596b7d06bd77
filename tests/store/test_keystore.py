"""keystore: nsc-compatible seed files, idempotent put, conflicts, creds, .gitignore, batches."""

from __future__ import annotations

import os
import stat

import pytest

from nscpy import keys
from nscpy.store import (
    CorruptStore,
    InvalidCreds,
    KeyConflict,
    KeyInfo,
    KeyStore,
    NotFound,
)
from nscpy.store.layout import GITIGNORE_TEXT


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_put_writes_raw_seed_no_newline_0600_in_sharded_path(keystore, paths, vectors):
    v = vectors["nkeys"][7]  # a user key from the Go vectors
    assert keystore.put(v["seed"]) == v["public_key"]
    pub = v["public_key"]
    path = paths.keystore_dir / "keys" / pub[0] / pub[1:3] / f"{pub}.nk"
    assert path.read_bytes() == v["seed"].encode()
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    assert keystore.get(pub) == v["seed"]
    assert keystore.has(pub)


def test_put_same_seed_twice_is_fine(keystore):
    kp = keys.create_pair(keys.Prefix.ACCOUNT)
    assert keystore.put(kp.seed) == keystore.put(kp.seed) == kp.public_key
    assert keystore.list() == [KeyInfo(kp.public_key, keys.Prefix.ACCOUNT)]


def test_different_seed_for_same_key_is_a_conflict(keystore, paths):
    kp = keys.create_pair(keys.Prefix.USER)
    other = keys.create_pair(keys.Prefix.USER)
    path = paths.key_path(kp.public_key)
    path.parent.mkdir(parents=True)
    path.write_text(other.seed)  # what a corrupted or hand-edited keystore might hold
    with pytest.raises(KeyConflict, match="a different seed for U") as err:
        keystore.put(kp.seed)
    assert other.seed not in str(err.value) and kp.seed not in str(err.value)
    assert path.read_text() == other.seed


def test_get_checks_the_file_holds_the_named_key(keystore, paths):
    kp, other = keys.create_pair(keys.Prefix.USER), keys.create_pair(keys.Prefix.USER)
    path = paths.key_path(kp.public_key)
    path.parent.mkdir(parents=True)
    path.write_text(other.seed)
    with pytest.raises(CorruptStore, match="holds the seed of"):
        keystore.get(kp.public_key)
    path.write_text("garbage")
    with pytest.raises(CorruptStore, match="does not hold a valid seed"):
        keystore.get(kp.public_key)


def test_seed_file_with_trailing_newline_is_tolerated(keystore, paths):
    kp = keys.create_pair(keys.Prefix.OPERATOR)
    path = paths.key_path(kp.public_key)
    path.parent.mkdir(parents=True)
    path.write_text(kp.seed + "\n")
    assert keystore.get(kp.public_key) == kp.seed
    assert keystore.put(kp.seed) == kp.public_key  # same seed: no conflict


def test_invalid_seed_is_rejected_before_touching_disk(keystore, paths):
    with pytest.raises(keys.InvalidSeed, match="58 characters, got 3"):
        keystore.put("SUA")
    assert not paths.keystore_dir.exists()


def test_missing_key(keystore):
    pub = keys.create_pair(keys.Prefix.USER).public_key
    assert keystore.get(pub) is None
    assert not keystore.has(pub)
    assert keystore.remove(pub) is False
    with pytest.raises(NotFound, match="import it first"):
        keystore.require(pub)


def test_remove_deletes_file_and_empty_shard(keystore, paths):
    kp = keys.create_pair(keys.Prefix.USER)
    keystore.put(kp.seed)
    assert keystore.remove(kp.public_key) is True
    assert not paths.key_path(kp.public_key).parent.exists()
    assert keystore.list() == []


def test_list_covers_every_role_and_curve_keys(keystore):
    made = [keys.create(p) for p in keys.PUBLIC_PREFIXES]
    for kp in made:
        keystore.put(kp.seed)
    listed = keystore.list()
    assert {i.public_key for i in listed} == {kp.public_key for kp in made}
    assert {i.role for i in listed} == set(keys.PUBLIC_PREFIXES)
    assert [i.public_key for i in listed] == sorted(i.public_key for i in listed)


def test_gitignore_written_once_and_never_overwritten(keystore, paths):
    keystore.put(keys.create_pair(keys.Prefix.USER).seed)
    assert paths.gitignore.read_text() == GITIGNORE_TEXT
    assert mode(paths.gitignore) == 0o600
    paths.gitignore.write_text("# mine\n")
    KeyStore(paths).put(keys.create_pair(keys.Prefix.USER).seed)
    assert paths.gitignore.read_text() == "# mine\n"


def test_no_gitignore_with_nsc_no_git_ignore(make_paths):
    p = make_paths("nogit", NSC_NO_GIT_IGNORE="1")
    KeyStore(p).put(keys.create_pair(keys.Prefix.USER).seed)
    assert not p.gitignore.exists()


def test_creds_round_trip(keystore, paths, vectors):
    text = vectors["creds_file"]["content"]
    path = keystore.write_creds("O", "A", "U", text)
    assert path == paths.keystore_dir / "creds" / "O" / "A" / "U.creds"
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    assert keystore.read_creds("O", "A", "U") == text
    assert keystore.remove_creds("O", "A", "U") is True
    assert keystore.remove_creds("O", "A", "U") is False
    with pytest.raises(NotFound, match="generate creds"):
        keystore.read_creds("O", "A", "U")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", "no '-----BEGIN USER NKEY SEED-----' block"),
        ("-----BEGIN USER NKEY SEED-----\nSUBAD\n------END USER NKEY SEED------\n", "invalid"),
    ],
)
def test_creds_without_a_user_seed_are_refused(keystore, text, message):
    with pytest.raises(InvalidCreds, match=message):
        keystore.write_creds("O", "A", "U", text)


def test_creds_with_a_non_user_seed_are_refused(keystore):
    seed = keys.create_pair(keys.Prefix.ACCOUNT).seed
    text = f"-----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
    with pytest.raises(InvalidCreds, match="got a account seed"):
        keystore.write_creds("O", "A", "U", text)


def test_batch_put_and_creds(keystore, vectors):
    pairs = [keys.create_pair(keys.Prefix.USER) for _ in range(50)]
    with keystore.batch() as b:
        for i, kp in enumerate(pairs):
            keystore.stage_put(b, kp.seed)
            keystore.stage_put(b, kp.seed)  # staged twice: still fine
            keystore.stage_creds(b, "O", "A", f"u{i}", vectors["creds_file"]["content"])
        assert keystore.list() == []
    assert {i.public_key for i in keystore.list()} == {kp.public_key for kp in pairs}
    assert all(keystore.get(kp.public_key) == kp.seed for kp in pairs)


def test_batch_conflicts_surface(keystore, paths):
    kp, other = keys.create_pair(keys.Prefix.USER), keys.create_pair(keys.Prefix.USER)
    keystore.put(kp.seed)
    path = paths.key_path(kp.public_key)
    path.write_text(other.seed)  # different content under kp's name
    with pytest.raises(CorruptStore), keystore.batch() as b:
        keystore.stage_put(b, kp.seed)
    # a key that appears between staging and commit is checked at commit time
    late = keys.create_pair(keys.Prefix.USER)
    b2 = keystore.batch()
    with pytest.raises(KeyConflict), b2 as staged:
        keystore.stage_put(staged, late.seed)
        late_path = paths.key_path(late.public_key)
        late_path.parent.mkdir(parents=True, exist_ok=True)
        late_path.write_text(keys.create_pair(keys.Prefix.USER).seed)


def test_open_selects_file_backend_by_default(paths):
    from nscpy.store import FileSeedBackend, keyring_requested

    assert isinstance(KeyStore.open(paths, {}).backend, FileSeedBackend)
    assert keyring_requested({"NSCPY_KEYRING": "1"})
    assert keyring_requested({"NSCPY_KEYRING": "yes"})
    assert not keyring_requested({"NSCPY_KEYRING": "0"})
    assert not keyring_requested({"NSCPY_KEYRING": "1"}, flag=False)


def test_key_pairs_are_accepted_as_well_as_seed_text(keystore):
    kp, curve = keys.create_pair(keys.Prefix.USER), keys.create_curve_pair()
    assert keystore.put(kp) == kp.public_key
    assert keystore.put(kp.seed) == kp.public_key
    with keystore.batch() as b:
        assert keystore.stage_put(b, curve) == curve.public_key
    assert keystore.get(curve.public_key) == curve.seed
