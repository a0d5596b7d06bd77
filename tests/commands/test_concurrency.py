"""Parallel processes lose no user and no revocation; SIGKILL tears no file.

Workers are real processes (the actions in a loop, and `nscpy add user` itself) on one store.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nscpy import keys
from nscpy.jwt import AccountClaims, UserClaims, decode, parse_decorated_jwt, parse_decorated_seed
from nscpy.store.atomic import is_temp_name

from .cliutil import REPO, ok, run

pytestmark = pytest.mark.e2e  # starts processes

WORKERS = 8
EACH = 4


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.commands.workers", *args],
        cwd=REPO,
        stderr=subprocess.PIPE,
    )


def _wait_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()


def _account(home: Path) -> AccountClaims:
    claims = decode((home / "demo/accounts/demo/demo.jwt").read_text())
    assert isinstance(claims, AccountClaims)
    return claims


def test_parallel_adds_lose_no_user_and_parallel_revokes_lose_no_revocation(
    tmp_path: Path,
) -> None:
    home = tmp_path / "nsc"
    ok("-H", str(home), "init", "-n", "demo")
    procs = [_spawn("add", str(home), "demo", f"w{w}", str(EACH)) for w in range(WORKERS)]
    # and the console script itself, eight at once
    procs += [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nscpy",
                "-H",
                str(home),
                "add",
                "user",
                "-a",
                "demo",
                f"cli{n}",
            ],
            cwd=REPO,
            stderr=subprocess.PIPE,
        )
        for n in range(WORKERS)
    ]
    _wait_all(procs)

    added = {f"w{w}-{i}" for w in range(WORKERS) for i in range(EACH)}
    added |= {f"cli{n}" for n in range(WORKERS)}
    listed = json.loads(ok("-H", str(home), "list", "users", "-a", "demo", "--json"))
    assert {u["name"] for u in listed} == added | {"demo"}
    account = _account(home)
    subjects: dict[str, str] = {}
    for name in added:
        token = (home / f"demo/accounts/demo/users/{name}.jwt").read_text()
        user = decode(token)
        assert isinstance(user, UserClaims) and user.name == name and account.did_sign(user)
        seed = (home / "keys/U" / user.subject[1:3] / f"{user.subject}.nk").read_text()
        assert keys.from_seed(seed).public_key == user.subject
        creds = (home / f"creds/demo/demo/{name}.creds").read_text()
        assert parse_decorated_jwt(creds) == token
        subjects[name] = user.subject
    ok("-H", str(home), "validate", "-A")

    # eight processes revoke-and-delete disjoint users, one account re-sign per user
    names = sorted(added)
    procs = [_spawn("revoke", str(home), "demo", *names[w::WORKERS]) for w in range(WORKERS)]
    _wait_all(procs)
    account = _account(home)
    assert set(subjects.values()) <= set(account.revocations)
    assert len(account.revocations) == len(subjects)
    remaining = json.loads(ok("-H", str(home), "list", "users", "-a", "demo", "--json"))
    assert [u["name"] for u in remaining] == ["demo"]
    assert sorted(p.name for p in (home / "creds/demo/demo").iterdir()) == ["demo.creds"]
    ok("-H", str(home), "validate", "-A")


def _assert_nothing_torn(home: Path) -> int:
    """Every JWT decodes, every seed file is a valid seed of its name, every creds parses."""
    checked = 0
    for path in home.rglob("*"):
        if not path.is_file() or is_temp_name(path.name):
            continue
        text = path.read_text()
        if path.suffix == ".jwt":
            decode(text)
        elif path.suffix == ".nk":
            assert keys.from_seed(text).public_key == path.stem, path
        elif path.suffix == ".creds":
            user = decode(parse_decorated_jwt(text))
            assert keys.from_seed(parse_decorated_seed(text)).public_key == user.subject
        else:
            continue
        checked += 1
    return checked


def test_sigkill_during_adds_and_revocations_leaves_no_torn_file(tmp_path: Path) -> None:
    home = tmp_path / "nsc"
    ok("-H", str(home), "init", "-n", "demo")
    users_dir = home / "demo/accounts/demo/users"
    rng = random.Random(3)
    for _round in range(4):
        before = len(list(users_dir.iterdir()))
        proc = _spawn("churn", str(home), "demo")
        try:
            deadline = time.monotonic() + 20
            while len(list(users_dir.iterdir())) <= before and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.05, 0.4))
        finally:
            proc.send_signal(signal.SIGKILL)
            _, err = proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL, err.decode()
        assert _assert_nothing_torn(home) > 10
        # the store is still fully usable afterwards
        code, out, err_text = run("-H", str(home), "validate", "-A", "--json")
        assert code == 0, out + err_text
    assert _account(home).revocations  # the churn did rewrite the account JWT
