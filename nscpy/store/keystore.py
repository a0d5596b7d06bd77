"""The nsc-compatible keystore: seed files (or the OS keyring), creds files and the .gitignore.

Seeds are written as the raw seed text with no newline, mode 0600, under
``keys/<K>/<XY>/<PUBKEY>.nk`` exactly as Go nsc does, so both tools can share one keystore.
Storing a seed is create-if-absent (link(2)), so two processes storing different seeds for the
same key cannot both win silently: the loser gets KeyConflict.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple, Protocol

from nscpy import keys
from nscpy.store import atomic
from nscpy.store.batch import Batch, Written
from nscpy.store.errors import CorruptStore, InvalidCreds, KeyConflict, NotFound, StoreIOError
from nscpy.store.layout import GITIGNORE_TEXT, NKEY_EXT, StorePaths

__all__ = [
    "KEYRING_ENV",
    "FileSeedBackend",
    "KeyInfo",
    "KeyStore",
    "SeedBackend",
    "keyring_requested",
    "public_key_of",
]

KEYRING_ENV = "NSCPY_KEYRING"


class KeyInfo(NamedTuple):
    """A public key present in the keystore and its role."""

    public_key: str
    role: keys.Prefix


AnyPair = keys.KeyPair | keys.CurveKeyPair


def public_key_of(seed: str) -> str:
    """The public key of any NKey seed (Ed25519 or curve); raises keys.InvalidSeed if bad."""
    return keys.from_seed(seed).public_key


def _seed_and_public(key: str | AnyPair) -> tuple[str, str]:
    # A key pair already knows its public key; re-deriving it from the seed text costs ~80 us,
    # which is most of the per-user cost of a 10,000-user batch.
    if isinstance(key, (keys.KeyPair, keys.CurveKeyPair)):
        return key.seed, key.public_key
    return key, public_key_of(key)


def _check_seed_file(public_key: str, text: str, where: Path | str) -> str:
    seed = text.strip()  # tolerate a hand-edited file with a trailing newline
    try:
        derived = public_key_of(seed)
    except keys.NKeyError as exc:
        raise CorruptStore(f"{str(where)!r} does not hold a valid seed: {exc}") from None
    if derived != public_key:
        raise CorruptStore(f"{str(where)!r} holds the seed of {derived}, not of {public_key}")
    return seed


def _conflict(public_key: str, where: Path | str) -> KeyConflict:
    return KeyConflict(
        f"a different seed for {public_key} is already stored in {str(where)!r}; "
        "remove it first if you mean to replace it"
    )


class SeedBackend(Protocol):
    """Where seeds live: files (nsc's layout) or the OS keyring."""

    def get(self, public_key: str) -> str | None:
        """The seed for public_key, or None."""
        ...

    def put(self, public_key: str, seed: str) -> bool:
        """Store seed; True if new, False if the same seed was there; KeyConflict if not."""
        ...

    def stage(self, batch: Batch, public_key: str, seed: str, *, new: bool = False) -> None:
        """Add the put to a batch (backends that cannot batch store it immediately). new=True:
        the key was just generated, so no stored copy can exist and none is looked for."""
        ...

    def remove(self, public_key: str) -> bool:
        """Delete the seed; False if there was none."""
        ...

    def public_keys(self) -> list[str]:
        """Every public key with a stored seed, unsorted."""
        ...


class FileSeedBackend:
    """Seeds as nsc writes them: <keystore>/keys/<K>/<XY>/<PUBKEY>.nk, raw text, mode 0600."""

    def __init__(self, paths: StorePaths) -> None:
        self.paths = paths
        self._shards: dict[str, Path] = {}  # "U/AB" -> its directory (one Path per shard)

    def get(self, public_key: str) -> str | None:
        """The seed for public_key, or None."""
        return self._read(self.paths.key_path(public_key), public_key)

    def _read(self, path: Path, public_key: str) -> str | None:
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            return None
        except UnicodeDecodeError:
            raise CorruptStore(f"{str(path)!r} does not hold a valid seed: not text") from None
        except OSError as exc:
            raise atomic.io_error("read", path, exc) from exc
        return _check_seed_file(public_key, text, path)

    def put(self, public_key: str, seed: str) -> bool:
        """Create the seed file unless an identical one exists; KeyConflict if it differs.

        public_key must be the seed's own public key (KeyStore derives it)."""
        path = self.paths.key_path(public_key, trusted=True)
        if atomic.atomic_create(path, seed, root=self.paths.keystore_dir):
            return True
        self._same_or_conflict(path, seed.encode())
        return False

    def stage(self, batch: Batch, public_key: str, seed: str, *, new: bool = False) -> None:
        """Stage the seed file as create-if-absent; conflicts surface now or at commit."""
        shard = public_key[0] + "/" + public_key[1:3]  # key_path(trusted=True)'s directory
        d = self._shards.get(shard)
        if d is None:
            d = self._shards[shard] = self.paths.key_path(public_key, trusted=True).parent
        name = public_key + NKEY_EXT
        pending = batch.staged_at(d, name)
        if pending is not None:  # staged earlier in this batch
            if pending != seed.encode():
                raise _conflict(public_key, d / name)
            return
        # a key generated just now cannot be on disk; the exclusive create still guards it
        existing = None if new else self._read(d / name, public_key)
        if existing is None:
            batch.write_at(d, name, seed, exclusive=True, root=self.paths.keystore_dir)
        elif existing != seed:
            raise _conflict(public_key, d / name)

    def on_exists(self, path: Path, wanted: bytes) -> None:
        """Batch callback: a key appeared between staging and commit."""
        if path.suffix == NKEY_EXT and path.is_relative_to(self.paths.keys_dir):
            self._same_or_conflict(path, wanted)

    def _same_or_conflict(self, path: Path, wanted: bytes) -> None:
        try:
            have = path.read_bytes()
        except OSError as exc:
            raise atomic.io_error("read", path, exc) from exc
        if have.strip() != wanted.strip():
            raise _conflict(path.name[: -len(NKEY_EXT)], path)

    def remove(self, public_key: str) -> bool:
        """Delete the seed file and, as nsc does, its shard directory if now empty."""
        path = self.paths.key_path(public_key)
        return atomic.remove_below(self.paths.keystore_dir, path, prune_parent=True)

    def problems(self) -> list[str]:
        """One line per damaged seed file under keys/ (for validate); never the file's content.

        A file is damaged when its name is not <public key>.nk in the shard the key belongs in,
        or it does not hold exactly that key's seed (garbage, or another key's or role's)."""
        out: list[str] = []
        for name in self._walk():
            path = Path(name)
            public_key = path.name[: -len(NKEY_EXT)]
            try:
                if path != self.paths.key_path(public_key):
                    out.append(f"{name!r} is not where the seed of {public_key} belongs")
                    continue
            except keys.NKeyError:
                out.append(f"{name!r} is not named after a public key")
                continue
            try:
                self._read(path, public_key)
            except (CorruptStore, StoreIOError) as exc:
                out.append(str(exc))
        return out

    def _walk(self) -> list[str]:
        found: list[str] = []
        for root, _dirs, names in os.walk(self.paths.keys_dir):
            for name in names:
                if name.endswith(NKEY_EXT) and not atomic.is_temp_name(name):
                    found.append(os.path.join(root, name))
        return sorted(found)

    def public_keys(self) -> list[str]:
        """Public keys of every .nk file under keys/<K>/<XY>/."""
        found: list[str] = []
        root = self.paths.keys_dir
        try:
            kinds = list(os.scandir(root))
        except FileNotFoundError:
            return found
        for kind in kinds:
            # a hidden directory is a batch's half-built tree (see nscpy.store.batch)
            if not kind.is_dir() or kind.name.startswith("."):
                continue
            for shard in os.scandir(kind.path):
                if not shard.is_dir() or shard.name.startswith("."):
                    continue
                for entry in os.scandir(shard.path):
                    name = entry.name
                    if name.endswith(NKEY_EXT) and not atomic.is_temp_name(name):
                        found.append(name[: -len(NKEY_EXT)])
        return found


def keyring_requested(env: Mapping[str, str], flag: bool | None = None) -> bool:
    """Whether seeds go to the OS keyring: an explicit flag wins, else NSCPY_KEYRING=1/true/yes."""
    if flag is not None:
        return flag
    return env.get(KEYRING_ENV, "").strip().lower() in ("1", "true", "yes", "on")


class KeyStore:
    """Seeds (through a SeedBackend) and creds files in an nsc keystore directory."""

    def __init__(self, paths: StorePaths, backend: SeedBackend | None = None) -> None:
        self.paths = paths
        self.backend: SeedBackend = backend if backend is not None else FileSeedBackend(paths)
        self._gitignore_checked = False

    @classmethod
    def open(
        cls, paths: StorePaths, env: Mapping[str, str], *, keyring: bool | None = None
    ) -> KeyStore:
        """A KeyStore whose backend follows the --keyring flag or NSCPY_KEYRING."""
        if keyring_requested(env, keyring):
            from nscpy.store.keyring_backend import KeyringSeedBackend

            return cls(paths, KeyringSeedBackend(paths))
        return cls(paths)

    def _ensure_gitignore(self) -> None:
        # nsc writes it whenever it stores a key and never overwrites a user's edited copy.
        if self._gitignore_checked or not self.paths.git_ignore:
            return
        atomic.atomic_create(self.paths.gitignore, GITIGNORE_TEXT, root=self.paths.keystore_dir)
        self._gitignore_checked = True

    def check_writable(self, *paths: Path) -> None:
        """UnsafePath if writing any of these keystore paths would go through a linked directory
        (lets a use case refuse before its first write rather than half-way)."""
        for path in paths:
            atomic.check_below(self.paths.keystore_dir, path)

    # -- seeds ---------------------------------------------------------------------------------
    def put(self, key: str | AnyPair) -> str:
        """Store a seed (text or key pair); returns its public key. The same seed twice is
        fine; a different seed for the same public key raises KeyConflict."""
        seed, public_key = _seed_and_public(key)
        self._ensure_gitignore()
        self.backend.put(public_key, seed)
        return public_key

    def get(self, public_key: str) -> str | None:
        """The seed for public_key, or None if the keystore does not hold it."""
        return self.backend.get(public_key)

    def require(self, public_key: str) -> str:
        """The seed for public_key; NotFound with a hint if it is missing."""
        seed = self.get(public_key)
        if seed is None:
            raise NotFound(
                f"no seed for {public_key} in keystore {str(self.paths.keystore_dir)!r}; "
                "import it first (import keys) or pass it with -K"
            )
        return seed

    def has(self, public_key: str) -> bool:
        """True if the keystore holds the seed for public_key."""
        return self.get(public_key) is not None

    def remove(self, public_key: str) -> bool:
        """Delete the seed for public_key; False if there was none."""
        keys.decode_public(public_key)
        return self.backend.remove(public_key)

    def list(self) -> list[KeyInfo]:
        """Every stored public key with its role, sorted by role letter then key."""
        infos = []
        for pk in self.backend.public_keys():
            if keys.is_valid_public_key(pk):
                infos.append(KeyInfo(pk, keys.public_prefix(pk)))
        return sorted(infos, key=lambda i: (i.public_key[0], i.public_key))

    # -- creds ---------------------------------------------------------------------------------
    def creds_path(self, operator: str, account: str, user: str) -> Path:
        """Where the user's creds file lives (it may not exist)."""
        return self.paths.creds_path(operator, account, user)

    def write_creds(self, operator: str, account: str, user: str, text: str) -> Path:
        """Atomically (re)write the user's creds file, mode 0600; returns its path."""
        _check_creds_text(text)
        path = self.paths.creds_path(operator, account, user)
        self._ensure_gitignore()
        atomic.atomic_write(path, text, root=self.paths.keystore_dir)
        return path

    def read_creds(self, operator: str, account: str, user: str) -> str:
        """The creds file text; NotFound if there is none."""
        path = self.paths.creds_path(operator, account, user)
        try:
            return path.read_text("utf-8")
        except FileNotFoundError:
            raise NotFound(
                f"no creds for user {user!r} of account {account!r} at {str(path)!r}; "
                "generate them with 'generate creds'"
            ) from None
        except OSError as exc:
            raise atomic.io_error("read", path, exc) from exc

    def remove_creds(self, operator: str, account: str, user: str) -> bool:
        """Delete the user's creds file; False if there was none."""
        return atomic.remove_below(
            self.paths.keystore_dir, self.paths.creds_path(operator, account, user)
        )

    # -- batches -------------------------------------------------------------------------------
    def stage_put(self, batch: Batch, key: str | AnyPair) -> str:
        """Add a seed (text or key pair) to a batch; returns its public key. Conflicts raise
        KeyConflict."""
        seed, public_key = _seed_and_public(key)
        self._ensure_gitignore()
        self.backend.stage(batch, public_key, seed)
        return public_key

    def stage_new(self, batch: Batch, pair: keys.KeyPair) -> str:
        """Add a key pair generated just now to a batch (no stored copy is looked for: none can
        exist); returns its seed."""
        seed = pair.seed
        self._ensure_gitignore()
        self.backend.stage(batch, pair.public_key, seed, new=True)
        return seed

    def stage_creds(self, batch: Batch, operator: str, account: str, user: str, text: str) -> Path:
        """Add a creds file write to a batch; returns its path."""
        return self.stage_creds_at(batch, self.paths.creds_path(operator, account, user), text)

    def stage_creds_at(self, batch: Batch, path: Path, text: str) -> Path:
        """Add a creds write for an already computed creds path (see StorePaths.creds_path)."""
        self.stage_creds_in(batch, path.parent, path.name, text)
        return path

    def stage_creds_in(self, batch: Batch, d: Path, name: str, text: str) -> None:
        """stage_creds_at(d / name), for callers staging many creds in one directory."""
        _check_creds_text(text)
        self._ensure_gitignore()
        batch.write_at(d, name, text, root=self.paths.keystore_dir)

    def commit(self, batch: Batch) -> Written:
        """Commit a batch that holds staged seeds, reporting late key conflicts."""
        handler = getattr(self.backend, "on_exists", None)
        return batch.commit(on_exists=handler)

    @contextlib.contextmanager
    def batch(self) -> Iterator[Batch]:
        """`with ks.batch() as b: ks.stage_put(b, seed)...`: one flush pass for all of it."""
        b = Batch()
        try:
            yield b
        except BaseException:
            b.discard()
            raise
        self.commit(b)


_SEED_BEGIN = "-----BEGIN "
_SEED_END = " SEED-----"


def _check_creds_text(text: str) -> None:
    # nsc's ExtractSeed: a line "-----BEGIN ... SEED-----" followed by the seed line. A creds
    # file without it would be useless to every client, so refuse to store it.
    lines = text.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith(_SEED_BEGIN) and line.endswith(_SEED_END):
            seed = lines[i + 1].strip()
            try:
                prefix, _ = keys.decode_seed(seed)
            except keys.NKeyError as exc:
                raise InvalidCreds(f"creds text holds an invalid seed: {exc}") from None
            if prefix is not keys.Prefix.USER:
                raise InvalidCreds(f"creds must hold a user seed (SU...), got a {prefix.role} seed")
            return
    raise InvalidCreds("creds text has no '-----BEGIN USER NKEY SEED-----' block")
