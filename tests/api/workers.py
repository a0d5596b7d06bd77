"""A worker process for tests/api/test_concurrency: `python -m tests.api.workers HOME TAG N`."""

from __future__ import annotations

import sys

from nscpy.api import LimitsEdit, PermissionSpec, Store


def work(store: Store, tag: str, count: int) -> None:
    """Add `count` users, edit each one, and revoke the first (an account JWT edit)."""
    for i in range(count):
        name = f"{tag}-{i}"
        store.add_user("O", "A", name, permissions=PermissionSpec(allow_pub=[f"{tag}.{i}"]))
        store.edit_user("O", "A", name, limits=LimitsEdit(subs=i + 1), tags=[tag])
    store.revoke_user("O", "A", f"{tag}-0", at=1000)


if __name__ == "__main__":
    work(Store.open(home=sys.argv[1], lock_timeout=120), sys.argv[2], int(sys.argv[3]))
