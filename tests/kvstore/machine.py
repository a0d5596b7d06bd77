"""One "machine" writing to a shared KV store: python -m tests.kvstore.machine HOME URL ID N R.

N threads each add R users to account SHARED and R times edit its limits, adding a tag that
names the edit (so a lost edit is a missing tag). Prints a JSON summary on stdout.
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

from nscpy.actions.edit_account import AccountEdit, edit_account
from nscpy.actions.users import UserSpec, add_user
from nscpy.actions.workspace import Workspace


def writer(home: Path, url: str, machine: str, w: int, rounds: int, errors: list[str]) -> None:
    ws = Workspace.open(all_dirs=str(home), store=url)
    try:
        for r in range(rounds):
            add_user(ws, UserSpec(name=f"{machine}-w{w}-u{r}", account="SHARED", operator="O"))
            edit = AccountEdit(
                account="SHARED", operator="O", conns=100 + w, tags=[f"{machine}-w{w}-e{r}"]
            )
            edit_account(ws, edit)
    except Exception as exc:  # reported to the test, which fails on any
        errors.append(f"{machine} writer {w}: {type(exc).__name__}: {exc}")


def main(argv: list[str]) -> None:
    home, url, machine, writers, rounds = (
        Path(argv[0]),
        argv[1],
        argv[2],
        int(argv[3]),
        int(argv[4]),
    )
    errors: list[str] = []
    threads = [
        threading.Thread(target=writer, args=(home, url, machine, w, rounds, errors))
        for w in range(writers)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    ws = Workspace.open(all_dirs=str(home), store=url)
    print(
        json.dumps(
            {
                "errors": errors,
                "alive": sum(t.is_alive() for t in threads),
                "users": ws.store.list_users("O", "SHARED"),
                "account": ws.store.read_account("O", "SHARED"),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
