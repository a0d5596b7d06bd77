"""8 threads and 4 processes add and edit users on one store at once; nothing is lost."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from nscpy.api import Store
from nscpy.jwt import format_user_creds
from tests.api.workers import work

REPO = Path(__file__).resolve().parents[2]
THREADS, PROCESSES, EACH = 8, 4, 4


@pytest.mark.e2e
def test_threads_and_processes_lose_nothing(tmp_path: Path) -> None:
    home = tmp_path / "nsc"
    store = Store.open(home=home, lock_timeout=120)
    store.add_operator("O")
    store.add_account("O", "A")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.api.workers", str(home), f"p{n}", str(EACH)], cwd=REPO
        )
        for n in range(PROCESSES)
    ]
    errors: list[BaseException] = []

    def thread_main(tag: str) -> None:
        try:
            work(store, tag, EACH)
        except BaseException as exc:  # surfaced below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=thread_main, args=(f"t{n}",)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    codes = [p.wait(timeout=240) for p in procs]
    assert not errors, errors
    assert codes == [0] * PROCESSES
    tags = [f"t{n}" for n in range(THREADS)] + [f"p{n}" for n in range(PROCESSES)]
    expected = sorted(f"{tag}-{i}" for tag in tags for i in range(EACH))
    assert store.users("O", "A") == expected
    account = store.account("O", "A")
    for tag in tags:
        for i in range(EACH):
            user = store.user("O", "A", f"{tag}-{i}")
            assert (user.pub.allow, user.subs, user.tags) == ([f"{tag}.{i}"], i + 1, [tag])
            creds = store.creds_path("O", "A", f"{tag}-{i}").read_text()
            seed = store.seed(user.subject)
            assert seed is not None
            assert creds == format_user_creds(store.user_jwt("O", "A", f"{tag}-{i}"), seed)
        first = store.user("O", "A", f"{tag}-0").subject
        assert account.revocations[first] == 1000
    assert len(account.revocations) == len(tags)
