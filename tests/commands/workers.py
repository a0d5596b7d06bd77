"""Worker processes for the CLI concurrency and crash tests: python -m tests.commands.workers."""

from __future__ import annotations

import os
import sys

from nscpy.actions.delete import DeleteUsers, delete_users
from nscpy.actions.users import UserSpec, add_user
from nscpy.actions.workspace import Workspace


def _ws(root: str) -> Workspace:
    return Workspace.open(all_dirs=root, env={"HOME": root})


def add(root: str, account: str, prefix: str, count: int) -> None:
    """Add users prefix-0 .. prefix-(count-1), one action call each."""
    ws = _ws(root)
    for i in range(count):
        add_user(ws, UserSpec(name=f"{prefix}-{i}", account=account))


def revoke(root: str, account: str, names: list[str]) -> None:
    """Delete each user with --revoke, one read-modify-write of the account JWT per user."""
    ws = _ws(root)
    for name in names:
        delete_users(ws, DeleteUsers(names=[name], account=account, revoke=True, rm_creds=True))


def churn(root: str, account: str) -> None:
    """Until killed: add a user, and revoke-delete the one before (account JWT rewritten)."""
    ws = _ws(root)
    tag = os.getpid()
    i = 0
    while True:
        add_user(ws, UserSpec(name=f"c{tag}-{i}", account=account))
        if i:
            spec = DeleteUsers(names=[f"c{tag}-{i - 1}"], account=account, revoke=True)
            delete_users(ws, spec)
        i += 1


if __name__ == "__main__":
    what, root, account, *rest = sys.argv[1:]
    if what == "add":
        add(root, account, rest[0], int(rest[1]))
    elif what == "revoke":
        revoke(root, account, rest)
    elif what == "churn":
        churn(root, account)
    else:
        raise SystemExit(f"unknown worker {what!r}")
