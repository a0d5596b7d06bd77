"""Worker processes for tests/api: `python -m tests.api.workers HOME TAG N` (concurrency) and
`python -m tests.api.workers HOME --crash` (killed half-way through a transaction)."""

from __future__ import annotations

import os
import signal
import sys

from nscpy.api import LimitsEdit, PermissionSpec, Store


def work(store: Store, tag: str, count: int) -> None:
    """Add `count` users, edit each one, and revoke the first (an account JWT edit)."""
    for i in range(count):
        name = f"{tag}-{i}"
        store.add_user("O", "A", name, permissions=PermissionSpec(allow_pub=[f"{tag}.{i}"]))
        store.edit_user("O", "A", name, limits=LimitsEdit(subs=i + 1), tags=[tag])
    store.revoke_user("O", "A", f"{tag}-0", at=1000)


def crash(store: Store) -> None:
    """Write a good part of a transaction, then die by SIGKILL (no cleanup code runs)."""
    with store.transaction():
        store.add_account("O", "B")
        store.add_user("O", "B", "bob")
        store.edit_user("O", "A", "alice", limits=LimitsEdit(subs=3))
        store.revoke_user("O", "A", "alice")
        store.delete_users("O", "A", ["alice"])
        os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    if sys.argv[2] == "--crash":
        crash(Store.open(home=sys.argv[1]))
    else:
        work(Store.open(home=sys.argv[1], lock_timeout=120), sys.argv[2], int(sys.argv[3]))
