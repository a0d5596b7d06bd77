"""The data store in a JetStream KV bucket: the same DataStore API, shared by many machines.

Each file of the directory layout is one key (nscpy.store.kvkeys), so paths computed by
StorePaths keep naming what they name. Where the directory store takes an flock, this one
compares and sets: a read-modify-write reads the key's revision, computes, and writes only if
the revision is still the same, retrying a bounded number of times when another writer got
there first; a create writes only if the key is absent. Seeds never come here: the keystore
stays local (see nscpy.store.kvseal for sharing one sealed).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from nscpy.store import journal
from nscpy.store.batch import Batch, Written
from nscpy.store.errors import AlreadyExists, CorruptStore, NotFound, StoreError
from nscpy.store.jwtstore import DataStore, StoreInfo
from nscpy.store.kvclient import KvClient, KvConflict, KvEntry, default_editor
from nscpy.store.kvkeys import decode_key, encode_key, encode_part, parse_store_url
from nscpy.store.layout import ACCOUNTS_DIR, JWT_EXT, NSC_FILE, USERS_DIR, StorePaths
from nscpy.store.names import check_new_name

__all__ = ["KvDataStore", "new_change_id", "open_kv_store"]

MAX_ATTEMPTS = 32  # compare-and-set attempts before a read-modify-write gives up


def new_change_id() -> str:
    """A unique id for one change (all keys it writes carry it)."""
    return os.urandom(12).hex()


class KvDataStore(DataStore):
    """Operators, accounts and users as KV entries, keyed as the directory layout's files."""

    def __init__(self, paths: StorePaths, client: KvClient) -> None:
        super().__init__(paths)
        self.kv = client

    # -- keys ----------------------------------------------------------------------------------
    def key_of(self, path: Path) -> str:
        """The KV key of a data-store path; StoreError for a path outside the data store."""
        if not self.holds(path):
            raise StoreError(
                f"{str(path)!r} is outside the data store; the {self.kv.where} holds only "
                "operator, account and user JWTs"
            )
        return encode_key(path.relative_to(self.paths.data_dir).parts)

    def holds(self, path: Path) -> bool:
        """True if path is a data-store file (so a KV key), not the keystore's, creds or
        nsc.json (which share the directory with -H)."""
        paths = self.paths
        if not path.is_relative_to(paths.data_dir) or path == paths.data_dir:
            return False
        if path.relative_to(paths.data_dir).parts[0] in paths.reserved_operator_names():
            return False
        return paths.keystore_dir == paths.data_dir or not path.is_relative_to(paths.keystore_dir)

    def path_of(self, key: str) -> Path:
        """The data-store path a key stands for."""
        return self.paths.data_dir.joinpath(*decode_key(key))

    # -- writes: every one goes through these two, so a transaction (nscpy.api) can undo it ----
    def _write(
        self, key: str, value: bytes, *, last: int | None, change: str, operation: str = "PUT"
    ) -> int:
        old = self.kv.latest(key) if journal.active() is not None else None
        revision = self.kv.put(key, value, last=last, change=change, operation=operation)
        if journal.active() is not None:
            journal.note_undo(self._undoer(key, old, revision))
        return revision

    def _write_many(
        self, writes: Sequence[tuple[str, bytes | None, int | None]], change: str
    ) -> None:
        if journal.active() is None:
            self.kv.put_many(writes, change)
            return
        olds = [(key, self.kv.latest(key)) for key, _, _ in writes]
        self.kv.put_many(writes, change)
        for key, old in olds:
            journal.note_undo(self._undoer(key, old, None))

    def _undoer(self, key: str, old: KvEntry | None, written: int | None) -> Callable[[], None]:
        return lambda: self._restore(key, old, written)

    def _restore(self, key: str, old: KvEntry | None, written: int | None) -> None:
        """Put a key back as it was before a rolled-back transaction wrote it; compare-and-set
        on what we wrote, so another machine's later edit is not overwritten (that raises)."""
        change = f"undo-{new_change_id()}"
        if old is None or old.operation != "PUT":
            if self.kv.get(key) is not None:
                self.kv.put(key, b"", last=written, change=change, operation="DEL")
        else:
            self.kv.put(key, old.value, last=written, change=change)

    def _text(self, path: Path, what: str) -> str:
        entry = self.kv.get(self.key_of(path))
        if entry is None:
            raise NotFound(f"{what} does not exist in the {self.kv.where}")
        try:
            return entry.value.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise CorruptStore(f"{what} in the {self.kv.where} is not UTF-8 text") from None

    def _create(self, path: Path, text: str, change: str | None = None) -> bool:
        """Write path's key only if it is absent (a deleted key counts as absent)."""
        key = self.key_of(path)
        change = change or new_change_id()
        latest = self.kv.latest(key)
        if latest is not None and latest.operation == "PUT":
            return False
        try:
            last = latest.revision if latest is not None else 0
            self._write(key, text.encode("utf-8"), last=last, change=change)
        except KvConflict:
            return False
        return True

    def _put(self, path: Path, text: str) -> None:
        """Write path's key whatever it holds (the directory store's atomic replace)."""
        self._write(self.key_of(path), text.encode("utf-8"), last=None, change=new_change_id())

    def _children(self, pattern_parts: list[str]) -> list[tuple[str, ...]]:
        return [decode_key(k) for k in self.kv.keys(".".join(pattern_parts))]

    def read_file(self, path: Path) -> str | None:
        entry = self.kv.get(self.key_of(path))
        return None if entry is None else entry.value.decode("utf-8")

    def list_files(self, folder: Path, suffix: str) -> list[str]:
        names = (parts[-1] for parts in self._children([self.key_of(folder), "*"]))
        return sorted(n for n in names if n.endswith(suffix))

    def check_writable(self, *paths: Path) -> None:
        for path in paths:
            self.key_of(path)

    # -- new names -----------------------------------------------------------------------------
    def new_operator_name(self, name: str) -> str:
        return check_new_name(name, "operator", self.list_operators())

    def new_account_name(self, operator: str, name: str) -> str:
        return check_new_name(name, "account", self.list_accounts(operator))

    # -- operators -----------------------------------------------------------------------------
    def create_operator(self, name: str, jwt: str | None = None, *, managed: bool = False) -> Path:
        """The operator JWT first, then .nsc (the marker) -- each only if absent."""
        name = self.new_operator_name(name)
        change = new_change_id()
        if self.has_operator(name):
            raise AlreadyExists(f"operator {name!r} already exists in the {self.kv.where}")
        self.kv.ensure_bucket()
        if jwt is not None and not self._create(self.paths.operator_jwt(name), jwt, change):
            raise AlreadyExists(
                f"operator {name!r} is being created by someone else in the {self.kv.where}"
            )
        info = StoreInfo(name, managed=managed).to_json()
        if not self._create(self.paths.operator_nsc_file(name), info, change):
            raise AlreadyExists(f"operator {name!r} already exists in the {self.kv.where}")
        return self.paths.operator_dir(name)

    def info(self, operator: str) -> StoreInfo:
        path = self.paths.operator_nsc_file(operator)
        return StoreInfo.parse(self._text(path, f"operator {operator!r}"), f"operator {operator!r}")

    def has_operator(self, operator: str) -> bool:
        return self.kv.get(self.key_of(self.paths.operator_nsc_file(operator))) is not None

    def require_operator(self, operator: str) -> None:
        if not self.has_operator(operator):
            raise NotFound(
                f"operator {operator!r} does not exist in the {self.kv.where}; "
                "create it with 'add operator' or migrate a store with 'nscpy store migrate'"
            )

    def list_operators(self) -> list[str]:
        found = self._children(["*", encode_part(NSC_FILE)])
        return sorted(parts[0] for parts in found)

    def read_operator(self, operator: str) -> str:
        self.require_operator(operator)
        return self._text(self.paths.operator_jwt(operator), f"operator JWT of {operator!r}")

    def write_operator(self, operator: str, jwt: str) -> Path:
        self.require_operator(operator)
        path = self.paths.operator_jwt(operator)
        self._put(path, jwt)
        return path

    # -- accounts ------------------------------------------------------------------------------
    def list_accounts(self, operator: str) -> list[str]:
        pattern = [encode_part(operator), ACCOUNTS_DIR, "*", "*"]
        found = self._children(pattern)
        return sorted(p[2] for p in found if p[3] == p[2] + JWT_EXT)

    def has_account(self, operator: str, account: str) -> bool:
        return self.kv.get(self.key_of(self.paths.account_jwt(operator, account))) is not None

    def read_account(self, operator: str, account: str) -> str:
        path = self.paths.account_jwt(operator, account)
        return self._text(path, f"account {account!r} of operator {operator!r}")

    def write_account(self, operator: str, account: str, jwt: str) -> Path:
        self.require_operator(operator)
        path = self.paths.account_jwt(operator, account)
        self._put(path, jwt)
        return path

    def create_account(self, operator: str, account: str, jwt: str) -> Path:
        self.require_operator(operator)
        account = self.new_account_name(operator, account)
        other = self.find_account(operator, account)
        if other is not None:
            raise AlreadyExists(f"account {other!r} already exists in operator {operator!r}")
        path = self.paths.account_jwt(operator, account)
        if not self._create(path, jwt):
            raise AlreadyExists(f"account {account!r} already exists in operator {operator!r}")
        return path

    def delete_account(self, operator: str, account: str) -> None:
        """The account JWT goes first (the account vanishes at once), then its users."""
        if not self.has_account(operator, account):
            raise NotFound(f"account {account!r} does not exist in operator {operator!r}")
        change = new_change_id()
        acct_key = self.key_of(self.paths.account_jwt(operator, account))
        below = self.key_of(self.paths.account_dir(operator, account)) + ".>"
        keys = [acct_key, *(k for k in self.kv.keys(below) if k != acct_key)]
        self._write_many([(key, None, None) for key in keys], change)

    # -- users ---------------------------------------------------------------------------------
    def list_users(self, operator: str, account: str) -> list[str]:
        pattern = [encode_part(operator), ACCOUNTS_DIR, encode_part(account), USERS_DIR, "*"]
        found = self._children(pattern)
        return sorted(p[4][: -len(JWT_EXT)] for p in found if p[4].endswith(JWT_EXT))

    def has_user(self, operator: str, account: str, user: str) -> bool:
        return self.kv.get(self.key_of(self.paths.user_jwt(operator, account, user))) is not None

    def read_user(self, operator: str, account: str, user: str) -> str:
        path = self.paths.user_jwt(operator, account, user)
        return self._text(path, f"user {user!r} in account {account!r}")

    def write_user(self, operator: str, account: str, user: str, jwt: str) -> Path:
        self._require_account(operator, account)
        path = self.paths.user_jwt(operator, account, user)
        self._put(path, jwt)
        return path

    def create_user(self, operator: str, account: str, user: str, jwt: str) -> Path:
        self._require_account(operator, account)
        user = self.new_user_name(operator, account, user)
        path = self.paths.user_jwt(operator, account, user)
        if not self._create(path, jwt):
            raise AlreadyExists(f"user {user!r} already exists in account {account!r}")
        return path

    def delete_user(self, operator: str, account: str, user: str) -> None:
        key = self.key_of(self.paths.user_jwt(operator, account, user))
        entry = self.kv.get(key)
        if entry is None:
            raise NotFound(f"user {user!r} does not exist in account {account!r}")
        try:
            self._write(key, b"", last=entry.revision, change=new_change_id(), operation="DEL")
        except KvConflict:
            raise StoreError(
                f"user {user!r} changed while it was being deleted; run the command again"
            ) from None

    # -- compare-and-set instead of locks ------------------------------------------------------
    def lock(self, operator: str) -> _NoLock:  # type: ignore[override]
        """No lock spans machines: a KV store's writes are compare-and-set instead."""
        self.require_operator(operator)
        return _NoLock()

    def read_modify_write(self, path: Path, fn: Callable[[str | None], str | None]) -> str | None:
        """Read the key and its revision, call fn, write only if the revision is unchanged;
        on a conflict read again and call fn again (up to MAX_ATTEMPTS times)."""
        key = self.key_of(path)
        change = new_change_id()
        for attempt in range(MAX_ATTEMPTS):
            entry = self.kv.latest(key)
            live = entry is not None and entry.operation == "PUT"
            old = entry.value.decode("utf-8") if entry is not None and live else None
            new = fn(old)
            if new is None or new == old:
                return new
            last = entry.revision if entry is not None else 0
            try:
                # each attempt is a distinct write: a new message id, the same change id
                self._write(key, new.encode("utf-8"), last=last, change=f"{change}-{attempt}")
                return new
            except KvConflict:
                # back off a little, randomly, so colliding writers stop colliding
                time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311 - jitter
        raise StoreError(
            f"{str(path)!r}: gave up after {MAX_ATTEMPTS} conflicting writes by others in the "
            f"{self.kv.where}; nothing was changed, run the command again"
        )

    def new_raw_batch(self) -> Batch:
        """Staged writes: local ones (seeds, creds) commit first, then the KV keys as one
        change (see _SplitBatch)."""
        return _SplitBatch(self)


class _NoLock:
    """What lock() returns for a KV store: writes are compare-and-set, no lock spans machines
    (the directory store's FileLock interface, doing nothing)."""

    def acquire(self) -> None:
        return None

    def release(self) -> None:
        return None

    def __enter__(self) -> _NoLock:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class _SplitBatch(Batch):
    """A Batch whose data-store paths go to KV (after the local files are committed)."""

    def __init__(self, store: KvDataStore) -> None:
        super().__init__()
        self.store = store
        self.kv_writes: dict[str, bytes | None] = {}

    def _inside(self, path: Path) -> bool:
        return self.store.holds(path)

    def write_at(
        self,
        d: Path,
        name: str,
        data: bytes | str,
        *,
        mode: int = 0o600,
        exclusive: bool = False,
        root: Path | None = None,
    ) -> None:
        # Batch.write comes here too
        path = d / name
        if self._inside(path):
            self.kv_writes[self.store.key_of(path)] = (
                data.encode("utf-8") if isinstance(data, str) else data
            )
            return
        super().write_at(d, name, data, mode=mode, exclusive=exclusive, root=root)

    def staged_at(self, d: Path, name: str) -> bytes | None:
        # Batch.staged comes here too
        path = d / name
        if self._inside(path):
            return self.kv_writes.get(self.store.key_of(path))
        return super().staged_at(d, name)

    def remove(self, path: Path, *, root: Path | None = None) -> None:
        if self._inside(path):  # a KV key: no directories, no links
            self.kv_writes[self.store.key_of(path)] = None
            return
        super().remove(path, root=root)

    def __len__(self) -> int:
        return super().__len__() + len(self.kv_writes)

    def discard(self) -> None:
        self.kv_writes.clear()
        super().discard()

    def commit(self, on_exists: Callable[[Path, bytes], None] | None = None) -> Written:
        """The local files first (a seed must exist before a JWT naming its key is shared),
        then every staged key as one change (one atomic batch where the bucket allows it)."""
        writes = [(key, data, None) for key, data in self.kv_writes.items()]
        self.kv_writes.clear()
        done = super().commit(on_exists)
        self.store._write_many(writes, new_change_id())
        return done


def open_kv_store(
    paths: StorePaths, url: str, env: Mapping[str, str], options: Mapping[str, Any]
) -> KvDataStore:
    """The KV data store a `--store` URL names; options: creds, ca_file, cert_file, key_file,
    tls_first, timeout (creds fall back to NSCPY_STORE_CREDS, TLS files to NATS_CA/CERT/KEY).
    Unknown options are refused."""
    known = {"creds", "ca_file", "cert_file", "key_file", "tls_first", "timeout", "retry_for"}
    known.add("editor")
    unknown = sorted(set(options) - known)
    if unknown:
        raise StoreError(
            f"unknown KV store option {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )
    spec = parse_store_url(url)
    client = KvClient(
        spec,
        creds=options.get("creds") or env.get("NSCPY_STORE_CREDS") or None,
        ca_file=options.get("ca_file") or env.get("NATS_CA") or None,
        cert_file=options.get("cert_file") or env.get("NATS_CERT") or None,
        key_file=options.get("key_file") or env.get("NATS_KEY") or None,
        tls_first=bool(options.get("tls_first")),
        timeout=float(options.get("timeout") or env.get("NSCPY_STORE_TIMEOUT") or 2.0),
        retry_for=float(options.get("retry_for") or env.get("NSCPY_STORE_RETRY") or 30.0),
        editor=options.get("editor") or default_editor(dict(env)),
    )
    return KvDataStore(paths, client)
