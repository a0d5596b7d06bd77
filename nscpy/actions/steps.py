"""Steps: a multi-file change as ordered store batches under one hold of the operator lock.

A store batch makes each file flip atomically, but a SIGKILL during its renames can leave some
of its files new and others old. A change that must never leave an invalid store (a key
rotation, a renewal) is therefore written as a sequence of batches ordered so that the store
is valid after each one, all under one lock so no other writer sees a step half-way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from nscpy import keys
from nscpy.actions.workspace import Workspace
from nscpy.store.jwtstore import StoreBatch


class Steps:
    """Committed batches in sequence under one hold of the operator lock.

    ``with Steps(ws, operator, dry_run) as steps:`` then ``with steps.step() as batch: ...``
    per step; a dry run stages everything and commits nothing.
    """

    def __init__(self, ws: Workspace, operator: str, dry_run: bool = False) -> None:
        self.ws = ws
        self.operator = operator
        self.dry_run = dry_run
        self._lock = ws.store.lock(operator)

    def __enter__(self) -> Steps:
        self._lock.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    @contextlib.contextmanager
    def step(self) -> Iterator[StoreBatch]:
        """One batch: committed when the block ends normally (never in a dry run)."""
        batch = StoreBatch(self.ws.store, self.operator, self.ws.keystore)
        try:
            yield batch
        except BaseException:
            batch.raw.discard()
            raise
        if self.dry_run:
            batch.raw.discard()
        else:
            batch.commit()

    def put_key(self, pair: keys.KeyPair) -> None:
        """Store a new seed as a step of its own (a keyring backend stores at once, so a dry
        run must not reach it)."""
        if not self.dry_run:
            with self.step() as batch:
                batch.put_key(pair)
