"""Use cases of the shared KV store: migrate, log (history), watch, and sealed seed sharing."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from nscpy.actions.errors import ActionError
from nscpy.actions.workspace import Workspace
from nscpy.store.kvclient import MAX_BATCH, KvEntry
from nscpy.store.kvkeys import decode_key, encode_key, encode_part, is_store_url
from nscpy.store.kvstore import KvDataStore, new_change_id, open_kv_store
from nscpy.store.layout import NSC_FILE

__all__ = [
    "Change",
    "MigrateReport",
    "history",
    "kv_store_of",
    "migrate",
    "open_shared_seed",
    "entity_key",
    "revision_text",
    "share_seed",
    "watch",
]

SEALED_TOKEN = "=sealed"  # never an encode_part output ('=' then not two hex digits)


def kv_store_of(ws: Workspace) -> KvDataStore:
    """The workspace's KV store; ActionError when it works on a directory."""
    if not isinstance(ws.store, KvDataStore):
        raise ActionError(
            "this command needs a shared store: pass --store nats://HOST:PORT?bucket=NAME "
            "(or set NSCPY_STORE)"
        )
    return ws.store


# -- migrate -----------------------------------------------------------------------------------
class MigrateReport(NamedTuple):
    source: str
    target: str
    operators: list[str]
    files: int

    def to_json(self) -> dict[str, Any]:
        return self._asdict()


def _dir_files(root: Path) -> dict[tuple[str, ...], bytes]:
    """Every regular file of every operator (a directory holding .nsc) under root, by its
    path components; links are refused, never followed."""
    if not root.is_dir():
        raise ActionError(f"directory store {str(root)!r} does not exist")
    found: dict[tuple[str, ...], bytes] = {}
    for op_dir in sorted(root.iterdir()):
        if op_dir.name.startswith(".") or not (op_dir / NSC_FILE).is_file():
            continue
        for dirpath, dirnames, filenames in os.walk(op_dir, followlinks=False):
            here = Path(dirpath)
            for name in dirnames:
                if (here / name).is_symlink():
                    raise ActionError(f"{str(here / name)!r} is a link; refusing to migrate it")
            # the directory store's own temporaries and graves are not content
            dirnames[:] = [d for d in dirnames if ".deleted-" not in d and ".tmp-" not in d]
            for name in filenames:
                path = here / name
                if ".tmp-" in name or name.endswith(".lock"):
                    continue
                if path.is_symlink() or not path.is_file():
                    raise ActionError(f"{str(path)!r} is not a regular file; refusing to migrate")
                found[path.relative_to(root).parts] = path.read_bytes()
    return found


def migrate(
    source: str,
    target: str,
    env: Mapping[str, str],
    options: Mapping[str, Any],
    paths_for: Callable[[Path], Any],
) -> MigrateReport:
    """Copy every operator from a directory store to a KV store or back, byte for byte.

    Refuses (before writing anything) an operator the target already has. Afterwards reads
    the target back and compares every file with the source.
    """
    src_kv, dst_kv = is_store_url(source), is_store_url(target)
    if src_kv == dst_kv:
        raise ActionError("migrate copies between a directory and a nats:// store (one of each)")
    if not src_kv:
        root = Path(source).expanduser().resolve()
        files = _dir_files(root)
        store = open_kv_store(paths_for(root), target, env, options)
        operators = sorted({parts[0] for parts in files})
        if not operators:
            raise ActionError(f"no operator (a directory with .nsc) in {str(root)!r}")
        existing = set(store.list_operators())
        clash = [o for o in operators if o in existing]
        if clash:
            raise ActionError(f"the {store.kv.where} already has operator {clash[0]!r}")
        store.kv.ensure_bucket()
        change = new_change_id()
        # each operator's .nsc (its marker) last, so a cut-off migration shows no operator;
        # atomic batches of up to MAX_BATCH keys, each key created only if absent
        ordered = sorted(files, key=lambda p: (p[0], p[-1] == NSC_FILE, p))
        for start in range(0, len(ordered), MAX_BATCH):
            chunk = ordered[start : start + MAX_BATCH]
            store.kv.put_many([(encode_key(p), files[p], 0) for p in chunk], change)
        copied = {k: e.value for k, e in _kv_files(store, operators).items()}
        _compare(files, copied, store.kv.where)
        return MigrateReport(str(root), store.kv.spec.display(), operators, len(files))
    root = Path(target).expanduser().resolve()
    store = open_kv_store(paths_for(root), source, env, options)
    operators = store.list_operators()
    if not operators:
        raise ActionError(f"the {store.kv.where} holds no operator")
    for op in operators:
        if (root / op).exists():
            raise ActionError(f"{str(root / op)!r} already exists; migrate into an empty place")
    entries = _kv_files(store, operators)
    from nscpy.store import atomic

    atomic.ensure_dir(root)
    for parts, entry in sorted(entries.items(), key=lambda kv: (kv[0][0], kv[0][-1] == NSC_FILE)):
        path = root.joinpath(*parts)
        atomic.ensure_dir(path.parent)
        atomic.atomic_write(path, entry.value, root=root)
    for op in operators:
        atomic.ensure_dir(root / op / "accounts")
    on_disk = _dir_files(root)
    wanted = {k: e.value for k, e in entries.items()}
    _compare(wanted, {k: v for k, v in on_disk.items() if k[0] in operators}, str(root))
    return MigrateReport(store.kv.spec.display(), str(root), operators, len(entries))


def _kv_files(store: KvDataStore, operators: list[str]) -> dict[tuple[str, ...], KvEntry]:
    out: dict[tuple[str, ...], KvEntry] = {}
    for op in operators:
        for entry in store.kv.entries(encode_part(op) + ".>"):
            out[decode_key(entry.key)] = entry
    return out


def _compare(
    wanted: Mapping[tuple[str, ...], bytes], got: Mapping[tuple[str, ...], bytes], where: str
) -> None:
    missing = sorted(set(wanted) - set(got))
    extra = sorted(set(got) - set(wanted))
    changed = sorted(k for k in set(wanted) & set(got) if wanted[k] != got[k])
    for what, keys in (("missing", missing), ("unexpected", extra), ("different", changed)):
        if keys:
            raise ActionError(
                f"after migrating, {'/'.join(keys[0])} is {what} in {where} "
                f"({len(keys)} file(s)); the copy is not faithful"
            )


# -- history and watch -------------------------------------------------------------------------
class Change(NamedTuple):
    """One revision of one file of the store, as log and watch show it."""

    revision: int
    time: str
    editor: str
    change: str
    operation: str
    path: str

    @classmethod
    def of(cls, entry: KvEntry) -> Change:
        when = entry.time.strftime("%Y-%m-%dT%H:%M:%SZ") if entry.time is not None else ""
        try:
            path = "/".join(decode_key(entry.key))
        except ValueError:
            path = entry.key  # not one of ours: show the raw key
        return cls(entry.revision, when, entry.editor, entry.change, entry.operation, path)

    def line(self) -> str:
        return f"{self.revision:>6}  {self.time}  {self.operation:<4} {self.path}  by {self.editor}"

    def to_json(self) -> dict[str, Any]:
        return self._asdict()


def entity_key(ws: Workspace, kind: str, name: str | None, account: str | None) -> str:
    """The KV key of an operator, account or user JWT (named, else the current one)."""
    store = kv_store_of(ws)
    operator = ws.operator_name(name if kind == "operator" else None)
    if kind == "operator":
        return store.key_of(ws.paths.operator_jwt(operator))
    if kind == "account":
        return store.key_of(ws.paths.account_jwt(operator, ws.account_name(operator, name)))
    if not name:
        raise ActionError("name the user (-n NAME)")
    acct = ws.account_name(operator, account)
    return store.key_of(ws.paths.user_jwt(operator, acct, name))


def _pattern(ws: Workspace, account: str | None, user: str | None) -> str:
    if user is not None:
        return entity_key(ws, "user", user, account)
    if account is not None:
        return entity_key(ws, "account", account, None)
    return encode_part(ws.operator_name()) + ".>"


def history(ws: Workspace, account: str | None = None, user: str | None = None) -> list[Change]:
    """Every kept revision of the current operator's files (or of one account or user JWT)."""
    store = kv_store_of(ws)
    return [Change.of(e) for e in store.kv.history(_pattern(ws, account, user))]


def revision_text(ws: Workspace, revision: int, key: str) -> str:
    """The JWT text the key held at one revision (see `log`); it must be that key's revision."""
    store = kv_store_of(ws)
    where = "/".join(decode_key(key))
    for entry in store.kv.history(key):
        if entry.revision == revision:
            if entry.operation != "PUT":
                raise ActionError(f"revision {revision} deleted {where}")
            return entry.value.decode("utf-8").strip()
    raise ActionError(f"revision {revision} is not a kept revision of {where} (see 'nscpy log')")


def watch(
    ws: Workspace,
    on_change: Callable[[Change], None],
    *,
    count: int | None,
    history: bool,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Call on_change for every change to the store as it happens; stop after count changes."""
    store = kv_store_of(ws)
    seen = 0

    def deliver(entry: KvEntry) -> bool:
        nonlocal seen
        on_change(Change.of(entry))
        seen += 1
        return count is None or seen < count

    ready = None if on_ready is None else (lambda: on_ready(store.kv.where))
    store.kv.watch(">", deliver, history=history, on_ready=ready)


# -- sealed seeds ------------------------------------------------------------------------------
def _sealed_key(public_key: str, recipient: str) -> str:
    return f"{SEALED_TOKEN}.{public_key}.{recipient}"


def _own_curve_key(ws: Workspace, wanted: str | None) -> str:
    curve = [k for k in ws.keystore.backend.public_keys() if k.startswith("X")]
    if wanted is not None:
        if wanted not in curve:
            raise ActionError(f"no seed for curve key {wanted} in the local keystore")
        return wanted
    if len(curve) != 1:
        raise ActionError(
            f"{len(curve)} curve keys (X...) in the local keystore; name yours with --xkey"
            if curve
            else "no curve key (X...) in the local keystore: create one with "
            "'nscpy generate nkey --curve --store'"
        )
    return curve[0]


def share_seed(
    ws: Workspace, public_key: str, recipients: list[str], sender: str | None = None
) -> list[str]:
    """Put public_key's seed in the bucket sealed (xkv1) to each recipient's curve key, from
    our own curve key. The plain seed never leaves this machine. Returns the keys written."""
    from nscpy import keys

    store = kv_store_of(ws)
    seed = ws.keystore.get(public_key)
    if seed is None:
        raise ActionError(f"no seed for {public_key} in the local keystore")
    own = keys.CurveKeyPair.from_seed(ws.keystore.require(_own_curve_key(ws, sender)))
    written = []
    change = new_change_id()
    for recipient in recipients:
        if not keys.is_valid_public_key(recipient, keys.Prefix.CURVE):
            raise ActionError(f"recipient {recipient!r} is not a curve public key (X...)")
        sealed = own.seal(seed.encode(), recipient)
        record = {"sender": own.public_key, "sealed": base64.b64encode(sealed).decode()}
        key = _sealed_key(public_key, recipient)
        store.kv.ensure_bucket()
        store.kv.put(key, json.dumps(record).encode(), last=None, change=change)
        written.append(key)
    return written


def open_shared_seed(ws: Workspace, public_key: str, xkey: str | None = None) -> str:
    """Open the seed of public_key sealed to our curve key and keep it in the local keystore.
    Returns the public key stored."""
    from nscpy import keys

    store = kv_store_of(ws)
    own_public = _own_curve_key(ws, xkey)
    entry = store.kv.get(_sealed_key(public_key, own_public))
    if entry is None:
        raise ActionError(f"no seed of {public_key} is shared with {own_public}")
    own = keys.CurveKeyPair.from_seed(ws.keystore.require(own_public))
    try:
        record = json.loads(entry.value)
        seed = own.open(base64.b64decode(record["sealed"]), str(record["sender"])).decode()
    except (ValueError, KeyError, TypeError, keys.NKeyError):
        raise ActionError(
            f"the shared seed of {public_key} does not open with {own_public}"
        ) from None
    if keys.KeyPair.from_seed(seed).public_key != public_key:
        raise ActionError(f"the shared seed does not belong to {public_key}; not stored")
    return ws.keystore.put(seed)


def shared_with(ws: Workspace, public_key: str | None = None) -> Iterator[tuple[str, str]]:
    """(public key, recipient) of every sealed seed in the bucket."""
    store = kv_store_of(ws)
    pattern = f"{SEALED_TOKEN}.{public_key or '*'}.*"
    for key in store.kv.keys(pattern):
        _, pub, recipient = key.split(".")
        yield pub, recipient
