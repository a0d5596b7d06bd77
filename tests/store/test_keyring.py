"""The OS keyring seed backend, exercised against a real (in-memory) keyring backend class."""

from __future__ import annotations

import keyring
import keyring.backend
import keyring.errors
import pytest
from jaraco.classes import properties

from nscpy import keys
from nscpy.store import KeyConflict, KeyInfo, KeyringUnavailable, KeyStore
from nscpy.store.keyring_backend import KeyringSeedBackend


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A complete keyring backend that keeps secrets in a dict."""

    @properties.classproperty
    def priority(cls) -> float:
        return 1.0

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.secrets.get((service, username))

    def set_password(self, service, username, password):
        self.secrets[(service, username)] = password

    def delete_password(self, service, username):
        if self.secrets.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


class LockedKeyring(MemoryKeyring):
    """A keyring that refuses every access, as a locked desktop keyring does."""

    def get_password(self, service, username):
        raise keyring.errors.KeyringLocked("keyring is locked")


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


def test_round_trip_through_the_installed_keyring(paths, memory_keyring):
    ks = KeyStore.open(paths, {"NSCPY_KEYRING": "1"})
    assert isinstance(ks.backend, KeyringSeedBackend)
    kp = keys.create_pair(keys.Prefix.USER)
    assert ks.put(kp.seed) == kp.public_key
    assert memory_keyring.secrets == {("nscpy", kp.public_key): kp.seed}
    assert ks.get(kp.public_key) == kp.seed
    assert ks.put(kp.seed) == kp.public_key  # idempotent
    assert ks.list() == [KeyInfo(kp.public_key, keys.Prefix.USER)]
    # the seed is not on disk; only a public marker is
    assert not paths.key_path(kp.public_key).exists()
    on_disk = [p.read_text() for p in paths.keystore_dir.rglob("*") if p.is_file()]
    assert all(kp.seed not in text for text in on_disk)
    assert ks.remove(kp.public_key) is True
    assert memory_keyring.secrets == {}
    assert ks.list() == [] and ks.get(kp.public_key) is None
    assert ks.remove(kp.public_key) is False


def test_conflict_in_keyring(paths, memory_keyring):
    ks = KeyStore(paths, KeyringSeedBackend(paths))
    kp = keys.create_pair(keys.Prefix.ACCOUNT)
    memory_keyring.set_password("nscpy", kp.public_key, keys.create_pair(keys.Prefix.ACCOUNT).seed)
    with pytest.raises(KeyConflict, match="already in the OS keyring"):
        ks.put(kp.seed)


def test_batch_with_keyring(paths, memory_keyring):
    ks = KeyStore(paths, KeyringSeedBackend(paths, service="svc"))
    pairs = [keys.create_pair(keys.Prefix.USER) for _ in range(5)]
    with ks.batch() as b:
        for kp in pairs:
            ks.stage_put(b, kp.seed)
    assert {i.public_key for i in ks.list()} == {kp.public_key for kp in pairs}
    assert all(memory_keyring.secrets[("svc", kp.public_key)] == kp.seed for kp in pairs)


def test_locked_keyring_is_a_one_line_error(paths):
    ks = KeyStore(paths, KeyringSeedBackend(paths, impl=LockedKeyring()))
    with pytest.raises(KeyringUnavailable, match="unset NSCPY_KEYRING") as err:
        ks.put(keys.create_pair(keys.Prefix.USER).seed)
    assert "\n" not in str(err.value)


@pytest.mark.e2e
def test_importing_the_store_does_not_import_keyring():
    import subprocess
    import sys

    code = "import sys, nscpy.store; print('keyring' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
