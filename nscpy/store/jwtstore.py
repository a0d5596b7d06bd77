"""The nsc data store: one directory per operator holding operator, account and user JWT text.

JWTs are opaque strings here (nscpy.jwt decodes them); the caller names each file after the
token's ``name`` claim, as nsc does. Every write is atomic. Changes that depend on what is on
disk (read-modify-write of an account JWT, "create unless it exists") run under an flock on the
operator's ``.nsc`` file, so parallel nscpy processes serialise there and lose nothing, and no
extra lock file appears in a tree that Go nsc also reads.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

from nscpy.gojson import go_dumps
from nscpy.keys import KeyPair
from nscpy.store import atomic, journal
from nscpy.store.batch import Batch, Written
from nscpy.store.errors import AlreadyExists, CorruptStore, NotFound, StoreError, UnsafePath
from nscpy.store.keystore import AnyPair, KeyStore
from nscpy.store.layout import CREDS_EXT, JWT_EXT, NSC_FILE, StorePaths, validate_name
from nscpy.store.names import check_new_name

__all__ = ["NSC_VERSION", "DataStore", "StoreBatch", "StoreInfo"]

NSC_VERSION = "1"


class StoreInfo(NamedTuple):
    """The content of an operator's .nsc file."""

    name: str
    kind: str = "operator"
    version: str = NSC_VERSION
    managed: bool = False

    @classmethod
    def parse(cls, text: str, where: str) -> StoreInfo:
        """A .nsc file's content; CorruptStore naming `where` when it is not valid."""
        try:
            raw = json.loads(text)
            return cls(
                name=str(raw["name"]),
                kind=str(raw.get("kind", "operator")),
                version=str(raw.get("version", NSC_VERSION)),
                managed=bool(raw.get("managed", False)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptStore(f"{where} is not a valid .nsc file: {exc}") from None

    def to_json(self) -> str:
        """The .nsc text exactly as nsc writes it (Go field order, compact)."""
        return go_dumps(
            {"managed": self.managed, "name": self.name, "kind": self.kind, "version": self.version}
        )


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text("utf-8").strip()
    except FileNotFoundError:
        raise NotFound(f"{what} does not exist ({str(path)!r})") from None
    except UnicodeDecodeError as exc:
        # name the file and the offset, never the bytes: a damaged file may hold a secret
        raise CorruptStore(
            f"{what} ({str(path)!r}) is not UTF-8 text (bad byte at offset {exc.start}); "
            "restore it from a backup or remove it"
        ) from None
    except OSError as exc:
        raise atomic.io_error("read", path, exc) from exc


def _rmtree(path: Path) -> None:
    import shutil  # only deletions need it; keep it off the read path's import time

    shutil.rmtree(path, ignore_errors=True)


def _relative(path: Path, root: Path) -> Path | None:
    try:
        return path.relative_to(root)
    except ValueError:
        return None


def _list_dir(path: Path) -> list[os.DirEntry[str]]:
    try:
        return list(os.scandir(path))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise atomic.io_error("list", path, exc) from exc


class DataStore:
    """Operators, accounts and users as JWT files in nsc's layout under paths.data_dir."""

    def __init__(self, paths: StorePaths, *, lock_timeout: float = 30.0) -> None:
        self.paths = paths
        self.lock_timeout = lock_timeout

    def check_writable(self, *paths: Path) -> None:
        """UnsafePath if writing any of these data store paths would go through a linked
        directory (lets a use case refuse before its first write rather than half-way)."""
        for path in paths:
            atomic.check_below(self.paths.data_dir, path)

    # -- new names -----------------------------------------------------------------------------
    def new_operator_name(self, name: str) -> str:
        """The name to store for a new operator (NFC), or InvalidName (see store.names)."""
        existing = [e.name for e in _list_dir(self.paths.data_dir)]
        return check_new_name(name, "operator", existing, self.paths.reserved_operator_names())

    def new_account_name(self, operator: str, name: str) -> str:
        """The name to store for a new account of operator (NFC), or InvalidName."""
        existing = [e.name for e in _list_dir(self.paths.accounts_dir(operator))]
        return check_new_name(name, "account", existing)

    def new_user_name(self, operator: str, account: str, name: str) -> str:
        """The name to store for a new user of the account (NFC), or InvalidName."""
        return check_new_name(name, "user", self.list_users(operator, account))

    # -- operators -----------------------------------------------------------------------------
    def create_operator(self, name: str, jwt: str | None = None, *, managed: bool = False) -> Path:
        """Create <root>/<name> with accounts/, <name>.jwt (if given) and .nsc.

        The tree is built in a hidden sibling and renamed into place; .nsc, the marker that
        makes both nsc and nscpy see an operator, is written last, so a crash leaves either
        nothing or a directory neither tool lists. A non-empty target is AlreadyExists.
        """
        name = self.new_operator_name(name)
        final = self.paths.operator_dir(name)
        root = self.paths.data_dir
        atomic.ensure_dir(root)
        tmp = root / f".{name}.tmp-{os.urandom(6).hex()}"
        try:
            atomic.ensure_dir(tmp / "accounts")
            if jwt is not None:
                atomic.atomic_write(tmp / (name + JWT_EXT), jwt)
            if final.is_symlink():  # rename(2) would refuse it too, with a vaguer reason
                raise UnsafePath(
                    f"refusing to create operator {name!r}: {str(final)!r} is a symbolic link, "
                    "and directories inside the store must be real directories"
                )
            moving = journal.note_move(tmp, final)
            try:
                # rename(2) onto an empty directory succeeds, onto a non-empty one fails: that
                # is nsc's rule ("already exists" only if the directory has entries).
                os.rename(tmp, final)
            except OSError as exc:
                journal.note_not_moved(moving)  # what is there is another writer's
                if final.is_dir() and _list_dir(final):
                    if not (final / NSC_FILE).is_file():
                        raise AlreadyExists(
                            f"{str(final)!r} exists but is not an operator store (no .nsc); "
                            "remove it or choose another operator name"
                        ) from None
                    raise AlreadyExists(
                        f"operator {name!r} already exists in {str(root)!r}"
                    ) from None
                raise atomic.io_error("create operator in", root, exc) from exc
        finally:
            if tmp.exists():
                _rmtree(tmp)
        atomic.fsync_dir(root)
        atomic.atomic_write(final / NSC_FILE, StoreInfo(name, managed=managed).to_json(), root=root)
        return final

    def info(self, operator: str) -> StoreInfo:
        """The operator's .nsc content; NotFound if it is not an operator directory."""
        path = self.paths.operator_nsc_file(operator)
        return StoreInfo.parse(_read_text(path, f"operator {operator!r}"), repr(str(path)))

    def has_operator(self, operator: str) -> bool:
        """True if <root>/<operator>/.nsc exists."""
        return self.paths.operator_nsc_file(operator).is_file()

    def require_operator(self, operator: str) -> None:
        """NotFound with the store root if the operator does not exist."""
        if not self.has_operator(operator):
            raise NotFound(
                f"operator {operator!r} does not exist in {str(self.paths.data_dir)!r}; "
                "create it with 'add operator' or select another store"
            )

    def list_operators(self) -> list[str]:
        """Names of the directories under the store root that hold a .nsc file, sorted."""
        return sorted(
            e.name
            for e in _list_dir(self.paths.data_dir)
            if e.is_dir() and not e.name.startswith(".") and (Path(e.path) / NSC_FILE).is_file()
        )

    def read_operator(self, operator: str) -> str:
        """The operator JWT text."""
        self.require_operator(operator)
        return _read_text(self.paths.operator_jwt(operator), f"operator JWT of {operator!r}")

    def write_operator(self, operator: str, jwt: str) -> Path:
        """Atomically replace the operator JWT."""
        self.require_operator(operator)
        path = self.paths.operator_jwt(operator)
        atomic.atomic_write(path, jwt, root=self.paths.data_dir)
        return path

    # -- accounts ------------------------------------------------------------------------------
    def list_accounts(self, operator: str) -> list[str]:
        """Accounts of the operator: directories accounts/<A> holding <A>.jwt, sorted."""
        base = self.paths.accounts_dir(operator)
        return sorted(
            e.name
            for e in _list_dir(base)
            if e.is_dir() and (Path(e.path) / (e.name + JWT_EXT)).is_file()
        )

    def has_account(self, operator: str, account: str) -> bool:
        """True if accounts/<A>/<A>.jwt exists."""
        return self.paths.account_jwt(operator, account).is_file()

    def find_account(self, operator: str, account: str) -> str | None:
        """The stored spelling of an account name, matched case-insensitively as nsc does."""
        folded = account.casefold()
        return next((a for a in self.list_accounts(operator) if a.casefold() == folded), None)

    def read_account(self, operator: str, account: str) -> str:
        """The account JWT text."""
        path = self.paths.account_jwt(operator, account)
        return _read_text(path, f"account {account!r} of operator {operator!r}")

    def write_account(self, operator: str, account: str, jwt: str) -> Path:
        """Atomically create or replace the account JWT."""
        self.require_operator(operator)
        path = self.paths.account_jwt(operator, account)
        atomic.atomic_write(path, jwt, root=self.paths.data_dir)
        return path

    def create_account(self, operator: str, account: str, jwt: str) -> Path:
        """Write a new account; AlreadyExists if any account has this name in any case."""
        account = self.new_account_name(operator, account)
        with self.lock(operator):
            other = self.find_account(operator, account)
            if other is not None:
                raise AlreadyExists(f"account {other!r} already exists in operator {operator!r}")
            return self.write_account(operator, account, jwt)

    def delete_account(self, operator: str, account: str) -> None:
        """Remove the account directory with its users (renamed away first, so it vanishes
        at once even if the removal is interrupted)."""
        with self.lock(operator):
            path = self.paths.account_dir(operator, account)
            if not self.has_account(operator, account):
                raise NotFound(f"account {account!r} does not exist in operator {operator!r}")
            try:
                atomic.remove_tree_below(self.paths.data_dir, path)
            except FileNotFoundError:
                raise NotFound(
                    f"account {account!r} does not exist in operator {operator!r}"
                ) from None

    # -- users ---------------------------------------------------------------------------------
    def list_users(self, operator: str, account: str) -> list[str]:
        """Users of the account: the *.jwt files in its users/ directory, sorted."""
        base = self.paths.users_dir(operator, account)
        return sorted(
            e.name[: -len(JWT_EXT)]
            for e in _list_dir(base)
            if e.name.endswith(JWT_EXT) and not atomic.is_temp_name(e.name) and e.is_file()
        )

    def has_user(self, operator: str, account: str, user: str) -> bool:
        """True if accounts/<A>/users/<U>.jwt exists."""
        return self.paths.user_jwt(operator, account, user).is_file()

    def read_user(self, operator: str, account: str, user: str) -> str:
        """The user JWT text."""
        path = self.paths.user_jwt(operator, account, user)
        return _read_text(path, f"user {user!r} in account {account!r}")

    def write_user(self, operator: str, account: str, user: str, jwt: str) -> Path:
        """Atomically create or replace a user JWT (the account must exist).

        Under the operator's lock, like every user write: an nscpy.api transaction holding it
        must not have a user file change under it (its rollback would undo that change)."""
        self._require_account(operator, account)
        path = self.paths.user_jwt(operator, account, user)
        with self.lock(operator):
            atomic.atomic_write(path, jwt, root=self.paths.data_dir)
        return path

    def create_user(self, operator: str, account: str, user: str, jwt: str) -> Path:
        """Write a new user; AlreadyExists if the account already has one of this name."""
        self._require_account(operator, account)
        user = self.new_user_name(operator, account, user)
        path = self.paths.user_jwt(operator, account, user)
        # link(2) is the arbiter between parallel creators; the lock keeps transactions whole
        with self.lock(operator):
            if not atomic.atomic_create(path, jwt, root=self.paths.data_dir):
                raise AlreadyExists(f"user {user!r} already exists in account {account!r}")
        return path

    def delete_user(self, operator: str, account: str, user: str) -> None:
        """Remove a user JWT; NotFound if it is not there."""
        path = self.paths.user_jwt(operator, account, user)
        with self.lock(operator):
            if not atomic.remove_below(self.paths.data_dir, path):
                raise NotFound(f"user {user!r} does not exist in account {account!r}")

    def _require_account(self, operator: str, account: str) -> None:
        if not self.has_account(operator, account):
            self.require_operator(operator)
            raise NotFound(
                f"account {account!r} does not exist in operator {operator!r}; "
                "create it with 'add account'"
            )

    # -- locking and batches ------------------------------------------------------------------
    def lock(self, operator: str) -> atomic.FileLock:
        """The operator's store lock (an flock on its .nsc file), as a context manager."""
        self.require_operator(operator)
        return atomic.FileLock(
            self.paths.operator_nsc_file(operator), timeout=self.lock_timeout, create=False
        )

    def _lock_for(self, path: Path) -> atomic.FileLock:
        # as spelled first: resolved through a linked directory of the store, the path (and
        # the lock file made beside it) would land outside
        rel = _relative(path, self.paths.data_dir) or _relative(
            path.resolve(), self.paths.data_dir.resolve()
        )
        if rel is not None and len(rel.parts) > 1 and self.has_operator(rel.parts[0]):
            return self.lock(rel.parts[0])
        # a file outside any operator gets its own hidden lock file beside it
        return atomic.FileLock(path.with_name(f".{path.name}.lock"), timeout=self.lock_timeout)

    def read_modify_write(self, path: Path, fn: Callable[[str | None], str | None]) -> str | None:
        """Under the lock: read path (None if absent), call fn, atomically write its result.

        fn returning None leaves the file as it is. Returns what was written (or None).
        """
        with self._lock_for(path):
            try:
                old: str | None = path.read_text("utf-8")
            except FileNotFoundError:
                old = None
            except OSError as exc:
                raise atomic.io_error("read", path, exc) from exc
            new = fn(old)
            if new is not None and new != old:
                inside = path.is_relative_to(self.paths.data_dir)
                atomic.atomic_write(path, new, root=self.paths.data_dir if inside else None)
            return new

    # -- other files of an operator (records kept beside the JWTs, e.g. .rotations/) ------------
    def read_file(self, path: Path) -> str | None:
        """The text of a file in the data store, None if it does not exist (OSError or
        UnicodeDecodeError if it cannot be read)."""
        try:
            return path.read_text("utf-8")
        except FileNotFoundError:
            return None

    def list_files(self, folder: Path, suffix: str) -> list[str]:
        """Names of the regular files in a data-store folder ending with suffix, sorted."""
        return sorted(e.name for e in _list_dir(folder) if e.name.endswith(suffix) and e.is_file())

    def new_raw_batch(self) -> Batch:
        """The Batch a StoreBatch stages into (a store kept elsewhere than in files returns
        one that sends its own paths there)."""
        return Batch()

    @contextlib.contextmanager
    def batch(self, operator: str, keystore: KeyStore | None = None) -> Iterator[StoreBatch]:
        """One lock and one flush pass for many writes: ``with ds.batch(op) as b: ...``.

        Nothing is visible until the block ends without an exception; then every staged file
        flips atomically from old to new content.
        """
        with self.lock(operator):
            b = StoreBatch(self, operator, keystore)
            try:
                yield b
            except BaseException:
                b.raw.discard()
                raise
            b.commit()


class StoreBatch:
    """Writes staged for one operator (plus keystore seeds and creds), committed together."""

    def __init__(self, store: DataStore, operator: str, keystore: KeyStore | None) -> None:
        self.store = store
        self.operator = operator
        self.keystore = keystore
        self.raw = store.new_raw_batch()
        # per-account directories, validated and checked once rather than once per user
        self._users_dirs: dict[str, Path] = {}
        self._creds_dirs: dict[str, Path] = {}

    def write_account(self, account: str, jwt: str) -> Path:
        """Stage an account JWT."""
        path = self.store.paths.account_jwt(self.operator, account)
        self.raw.write(path, jwt, root=self.store.paths.data_dir)
        return path

    def write_user(self, account: str, user: str, jwt: str) -> Path:
        """Stage a user JWT (the account must exist on disk or be staged in this batch)."""
        d = self._users_dir(account)
        name = validate_name(user, "user") + JWT_EXT
        self.raw.write_at(d, name, jwt, root=self.store.paths.data_dir)
        return d / name

    def _users_dir(self, account: str) -> Path:
        d = self._users_dirs.get(account)
        if d is None:
            acct = self.store.paths.account_jwt(self.operator, account)
            if self.raw.staged(acct) is None and not acct.is_file():
                self.store._require_account(self.operator, account)
            d = self._users_dirs[account] = self.store.paths.users_dir(self.operator, account)
        return d

    def delete_user(self, account: str, user: str) -> None:
        """Stage the removal of a user JWT."""
        self.raw.remove(
            self.store.paths.user_jwt(self.operator, account, user), root=self.store.paths.data_dir
        )

    def put_key(self, key: str | AnyPair) -> str:
        """Stage a seed (text or key pair) in the keystore; returns its public key."""
        return self._keys().stage_put(self.raw, key)

    def put_new_key(self, pair: KeyPair) -> str:
        """Stage a key pair generated just now (no stored copy can exist); returns its seed."""
        return self._keys().stage_new(self.raw, pair)

    def write_creds(self, account: str, user: str, text: str) -> Path:
        """Stage the user's creds file."""
        d = self._creds_dir(account)
        name = validate_name(user, "user") + CREDS_EXT
        self._keys().stage_creds_in(self.raw, d, name, text)
        return d / name

    def _creds_dir(self, account: str) -> Path:
        d = self._creds_dirs.get(account)
        if d is None:
            d = self._creds_dirs[account] = self.store.paths.creds_dir(self.operator, account)
        return d

    def _keys(self) -> KeyStore:
        if self.keystore is None:
            raise StoreError("this batch was opened without a keystore; pass keystore=")
        return self.keystore

    def commit(self) -> Written:
        """Write everything staged with one flush pass (the `with` block does this)."""
        if self.keystore is not None:
            return self.keystore.commit(self.raw)
        return self.raw.commit()
