"""apply: converge a store to a spec in one locked, all-or-nothing batch (and push on request).

Theory of operation. Under the operator's store lock the store is planned against the spec
(nscpy.actions.plan), every changed entity is signed, and every file (new seeds, JWTs, creds,
removals) is staged in one StoreBatch that commits with one flush pass. Any failure before the
commit leaves no file changed; the batch itself renames temp files only after all of them are
written and flushed. A new operator is created first (its directory appears atomically) and is
removed again if the rest fails. Only changed entities are re-signed; an unchanged store
writes nothing, so mtimes stay as they were.

A large apply is bound by file creation (kernel time) more than by signing (~30,000 user JWTs
per second here; a pool of forked signers measured slower than this process alone, the claims'
pickling costing more than the second core saved). So users are signed in chunks and the
batch hands each chunk's files to a forked writer process while the next chunk is signed
(Batch.write_ahead, nscpy.store.batch_child): the kernel's work and ours overlap on the two
cores, and only the files, not the claims, cross the pipe.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nscpy import keys
from nscpy.actions.plan import Change, EntityPlan, Plan, make_plan
from nscpy.actions.workspace import Workspace
from nscpy.jwt import encode
from nscpy.jwt.creds import decorate_seed, format_jwt
from nscpy.spec.model import Spec
from nscpy.store.errors import AlreadyExists
from nscpy.store.journal import all_or_nothing
from nscpy.store.jwtstore import StoreBatch

__all__ = ["WRITE_AHEAD_CHUNK", "ApplyResult", "Progress", "apply_spec"]

WRITE_AHEAD_CHUNK = 500
"""Users signed and staged per step of a large apply (the batch writes behind us)."""

_CREATE_WAIT = 10.0
"""Seconds to wait for a concurrently created operator to become complete."""

Progress = Callable[[int, int], None]
"""progress(done, total): called while signing and staging."""


@dataclass
class ApplyResult:
    """What apply did (or, with dry_run, would do)."""

    operator: str
    changes: list[Change]
    dry_run: bool = False
    files_written: int = 0
    files_removed: int = 0
    unchanged: int = 0
    deleted_accounts: dict[str, str] = field(default_factory=dict)
    """{public key: name} of the accounts --prune removed (push deletes them on the servers)."""
    pushed: Any = None  # nscpy.actions.drift.PushResult when --push was asked
    plan: Plan | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The apply.json document (no seeds)."""
        out: dict[str, Any] = {
            "operator": self.operator,
            "dry_run": self.dry_run,
            "changed": bool(self.changes),
            "changes": [c.to_json() for c in self.changes],
            "unchanged_users": self.unchanged,
            "files_written": self.files_written,
            "files_removed": self.files_removed,
        }
        if self.pushed is not None:
            out["push"] = self.pushed.to_json()
        return out


def creds_text(token: str, seed: str) -> str:
    """A user's .creds text (the JWT was just signed for this seed's key)."""
    return format_jwt("user", token) + decorate_seed(seed)


# -- signing -------------------------------------------------------------------------------------
_Job = tuple[Any, str, int]  # (claims, signer seed, iat)


def _sign_chunk(jobs: list[_Job]) -> list[str]:
    pairs: dict[str, keys.KeyPair] = {}
    out = []
    for claims, seed, iat in jobs:
        pair = pairs.get(seed)
        if pair is None:
            pair = pairs[seed] = keys.KeyPair.from_seed(seed)
        out.append(encode(claims, pair, iat=iat))
    return out


# -- staging -------------------------------------------------------------------------------------
class _Stager:
    def __init__(self, ws: Workspace, plan: Plan, batch: StoreBatch) -> None:
        self.ws = ws
        self.plan = plan
        self.batch = batch
        self.keys = plan.keyring
        self.removed = 0

    def referenced(self) -> set[str]:
        p = self.plan
        used = {p.operator_plan.claims.subject, *p.operator_plan.claims.signing_keys}
        for ap in p.accounts.values():
            used.add(ap.claims.subject)
            used.update(ap.claims.signing_keys)
        for plans in p.users.values():
            used.update(u.claims.subject for u in plans if u.new_pair is not None)
        return used

    def stage_keys(self) -> None:
        used = self.referenced()
        for public_key, pair in self.plan.new_keys.items():
            if public_key in used and not public_key.startswith("U"):
                self.batch.put_key(pair)

    def sign_one(self, p: EntityPlan) -> str:
        return encode(p.claims, self.keys.pair(p.signer), iat=self.plan.now)

    def stage_entities(self, progress: Progress | None) -> None:
        p = self.plan
        paths = self.ws.paths
        if p.operator_plan.changed:
            token = self.sign_one(p.operator_plan)
            self.batch.raw.write(paths.operator_jwt(p.operator), token)
        for name, ap in p.accounts.items():
            if ap.changed:
                self.batch.write_account(name, self.sign_one(ap))
        jobs: list[_Job] = []
        todo: list[EntityPlan] = []
        seeds: dict[str, str] = {}
        for plans in p.users.values():
            for u in plans:
                if u.changed:
                    if u.signer not in seeds:
                        seeds[u.signer] = self.keys.pair(u.signer).seed
                    jobs.append((u.claims, seeds[u.signer], p.now))
                    todo.append(u)
        # sign and stage in chunks; from the second chunk on, the batch writes the files of
        # earlier chunks in its threads while this one signs (the kernel work overlaps ours)
        for start in range(0, len(jobs), WRITE_AHEAD_CHUNK):
            chunk = todo[start : start + WRITE_AHEAD_CHUNK]
            tokens = _sign_chunk(jobs[start : start + WRITE_AHEAD_CHUNK])
            for u, token in zip(chunk, tokens, strict=True):
                self.stage_user(u, token)
            if len(jobs) > WRITE_AHEAD_CHUNK:
                self.batch.raw.write_ahead()
            if progress:
                progress(start + len(chunk), len(jobs))
        self.stage_missing_creds()

    def stage_user(self, u: EntityPlan, token: str) -> None:
        """The user's JWT, and for a new user its seed; creds when the seed is known."""
        self.batch.write_user(u.account, u.name, token)
        if u.new_pair is not None:
            seed: str | None = self.batch.put_new_key(u.new_pair)
        else:
            seed = self.ws.keystore.get(u.claims.subject)
        if seed is not None:
            self.batch.write_creds(u.account, u.name, creds_text(token, seed))

    def stage_missing_creds(self) -> None:
        """Creds of unchanged users that are missing or stale are rewritten (no re-signing)."""
        for plans in self.plan.users.values():
            for u in plans:
                if u.changed or u.stored is None:
                    continue
                seed = self.ws.keystore.get(u.claims.subject)
                if seed is None:
                    continue
                want = creds_text(u.stored.strip(), seed)
                path = self.ws.paths.creds_path(self.plan.operator, u.account, u.name)
                try:
                    have = path.read_text("utf-8")
                except FileNotFoundError:
                    have = None
                if have != want:
                    self.batch.write_creds(u.account, u.name, want)

    def stage_removals(self) -> list[Path]:
        p = self.plan
        paths = self.ws.paths
        dirs: list[Path] = []
        for account, names in p.delete_users.items():
            for name in names:
                self.batch.delete_user(account, name)
                self.batch.raw.remove(
                    paths.creds_path(p.operator, account, name), root=paths.keystore_dir
                )
                self.removed += 2
        for account in p.delete_accounts:
            for user in self.ws.store.list_users(p.operator, account):
                self.batch.delete_user(account, user)
                self.batch.raw.remove(
                    paths.creds_path(p.operator, account, user), root=paths.keystore_dir
                )
                self.removed += 2
            self.batch.raw.remove(paths.account_jwt(p.operator, account), root=paths.data_dir)
            self.removed += 1
            dirs += [
                paths.users_dir(p.operator, account),
                paths.account_dir(p.operator, account),
                paths.creds_dir(p.operator, account),
            ]
        return dirs


def _create_operator(ws: Workspace, spec: Spec, prune: bool) -> list[str] | None:
    """Make a new operator (directory, JWT, seeds); the keys it stored, or None if another run
    made it first.

    The seeds are stored before the directory appears: another apply that takes the operator's
    lock before this one must find the key that signs its accounts.
    """
    first = make_plan(ws, spec, prune=prune, operator_only=True)
    op = first.operator_plan
    token = encode(op.claims, first.keyring.pair(op.signer), iat=first.now)
    wanted = {op.claims.subject, *op.claims.signing_keys}
    try:
        # an operator that does not come to be takes back the seeds stored for it (only the
        # ones this run wrote: a seed that was already there stays)
        with all_or_nothing():
            stored = [ws.keystore.put(pair) for k, pair in first.new_keys.items() if k in wanted]
            ws.store.create_operator(spec.operator.name, token)
    except AlreadyExists:
        # another apply won the race; its .nsc (the lock file) is written just after the
        # directory appears, so wait for it briefly before taking the lock
        deadline = time.monotonic() + _CREATE_WAIT
        while not ws.store.has_operator(spec.operator.name) and time.monotonic() < deadline:
            time.sleep(0.01)
        return None
    return stored


def _forget(ws: Workspace, public_keys: list[str]) -> None:
    """Remove seeds this run stored for an operator that did not come to be."""
    for key in public_keys:
        ws.keystore.remove(key)


def apply_spec(
    ws: Workspace,
    spec: Spec,
    *,
    prune: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ApplyResult:
    """Make the store match spec; returns the changes (dry_run: plans only, writes nothing)."""
    name = spec.operator.name
    if dry_run:
        plan = make_plan(ws, spec, prune=prune)
        return ApplyResult(name, plan.changes(), True, unchanged=plan.unchanged, plan=plan)
    created: list[str] | None = None
    if not ws.store.has_operator(name):
        created = _create_operator(ws, spec, prune)
    try:
        with ws.store.lock(name):
            plan = make_plan(ws, spec, prune=prune)
            deleted = _account_keys(ws, name, plan.delete_accounts)
            if created is not None:
                plan.operator_plan.stored = None  # report the operator as created
                plan.operator_plan.changed = True
            # the lock is already held: a second store.batch() lock would wait on ourselves
            batch = StoreBatch(ws.store, name, ws.keystore)
            try:
                stager = _Stager(ws, plan, batch)
                stager.stage_keys()
                stager.stage_entities(progress)
                empty_dirs = stager.stage_removals()
                staged = len(batch.raw)
                batch.commit()
            except BaseException:
                batch.raw.discard()
                raise
            for d in empty_dirs:
                _remove_tree_if_ours(d)
    except BaseException:
        if created is not None:
            shutil.rmtree(ws.paths.operator_dir(name), ignore_errors=True)
            _forget(ws, created)
        raise
    return ApplyResult(
        name,
        plan.changes(),
        files_written=staged - stager.removed,
        files_removed=stager.removed,
        unchanged=plan.unchanged,
        deleted_accounts=deleted,
        plan=plan,
    )


def _account_keys(ws: Workspace, operator: str, names: list[str]) -> dict[str, str]:
    """{public key: name} of these stored accounts (read before they are deleted)."""
    if not names:
        return {}
    from nscpy.actions.lookup import accounts_by_key

    return {k: n for k, n in accounts_by_key(ws, operator).items() if n in names}


def _remove_tree_if_ours(path: Path) -> None:
    """Remove a deleted account's directory once its files are gone (leftovers stay)."""
    if not path.is_dir():
        return
    for sub in sorted(path.rglob("*"), key=lambda p: -len(p.parts)):
        if sub.is_dir() and not sub.is_symlink():
            try:
                sub.rmdir()
            except OSError:
                pass
    try:
        path.rmdir()
    except OSError:
        pass
