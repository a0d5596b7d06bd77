"""Probe: SIGKILL at random points of real `nscpy add user` / `edit user` runs.

Whatever instant a writer dies at, the store stays consistent: every listed user's JWT decodes
and is issued by its account, every creds file belongs to its user, leftovers are only temp
files (ignored) or a seed without a JWT (add user stores the seed first, by design), and
`validate -A` passes. Bounded: a fixed number of kills.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nscpy import keys
from nscpy.jwt import UserClaims, decode, parse_decorated_jwt, parse_decorated_seed, peek
from nscpy.store.atomic import is_temp_name
from tests.commands.cliutil import REPO, ok

KILLS = 8


def _cli(home: Path, *argv: str) -> subprocess.Popen[bytes]:
    code = "import sys; from nscpy.commands.cli import main; main(sys.argv[1:])"
    return subprocess.Popen(
        [sys.executable, "-c", code, "-H", str(home), *argv],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _consistent(home: Path) -> None:
    account = peek((home / "demo/accounts/demo/demo.jwt").read_text()).subject
    users = home / "demo/accounts/demo/users"
    for path in users.iterdir():
        if is_temp_name(path.name):
            continue
        claims = decode(path.read_text())
        assert isinstance(claims, UserClaims) and claims.issuer == account, path
        creds = home / "creds/demo/demo" / (path.stem + ".creds")
        if creds.exists():
            text = creds.read_text()
            assert decode(parse_decorated_jwt(text)).subject == claims.subject
            assert keys.from_seed(parse_decorated_seed(text)).public_key == claims.subject
    for path in (home / "keys").rglob("*.nk"):
        if not is_temp_name(path.name):
            assert keys.from_seed(path.read_text()).public_key == path.stem


@pytest.mark.e2e
def test_sigkill_at_random_points_leaves_a_consistent_store(home: Path) -> None:
    rng = random.Random(10)
    for n in range(KILLS):
        argv = (
            ["add", "user", "-a", "demo", "-n", f"u{n}", "--allow-pub", "a.>"]
            if n % 2 == 0
            else ["edit", "user", "-a", "demo", "-n", "demo", "--tag", f"t{n}"]
        )
        proc = _cli(home, *argv)
        time.sleep(rng.uniform(0.05, 0.5))  # start-up is ~0.1-0.3 s: kills land before,
        proc.send_signal(signal.SIGKILL)  # during and after the writes
        proc.communicate(timeout=30)
        _consistent(home)
    ok("-H", str(home), "validate", "-A")
    ok("-H", str(home), "add", "user", "-a", "demo", "-n", "after")
