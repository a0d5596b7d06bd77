"""SIGKILL at random moments during a rotation of 200 users, 20 runs.

Each run copies a store whose account R has 200 users signed by its one signing key, starts a
rotation phase in a child process, kills it with SIGKILL after a random delay (spread over the
time an uninterrupted run takes), and checks that the store is consistent as the kill left it
(`validate -A` clean: the phase is all-or-nothing), then runs the same command again and checks
that it completes: every user is signed by the new key, every creds file holds its user's
current JWT, and `validate -A` is clean. Half the runs kill `start`; the other half kill
`emergency`, which also pushes to a real nats-server (full resolver), so a kill can land in
the store phase, in the push, or between the push and the record's removal.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nscpy import keys
from nscpy.actions.entities import load_account
from nscpy.actions.workspace import Workspace
from nscpy.jwt import UserClaims, encode, format_user_creds, parse_decorated_jwt, peek
from tests.commands.cliutil import ok, run
from tests.support.natsserver import RunningServer, serve_config

pytestmark = pytest.mark.e2e

USERS = 200
RUNS = 20
FAST = ("--timeout", "0.5", "--expect-servers", "1")


def _add_rotating_account(home: Path) -> None:
    """Account R with one signing key and USERS users it signed (one store batch)."""
    ok("-H", str(home), "add", "account", "-n", "R")
    ok("-H", str(home), "edit", "account", "R", "--sk", "generate")
    ws = Workspace.open(all_dirs=str(home), env={})
    acct = load_account(ws, "O", "R")
    signer = keys.KeyPair.from_seed(ws.keystore.require(next(iter(acct.signing_keys))))
    now = int(time.time())
    with ws.store.batch("O", ws.keystore) as batch:
        for i in range(USERS):
            pair = keys.create_pair(keys.Prefix.USER)
            claims = UserClaims.new(pair.public_key)
            claims.name = f"u{i:03d}"
            claims.issuer_account = acct.subject
            token = encode(claims, signer, iat=now)
            batch.put_key(pair)
            batch.write_user("R", claims.name, token)
            batch.write_creds("R", claims.name, format_user_creds(token, pair.seed))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, RunningServer]]:
    base = tmp_path_factory.mktemp("crash")
    home = base / "template"
    ok("-H", str(home), "add", "operator", "-n", "O", "--sys")
    conf = base / "server.conf"
    ok("-H", str(home), "generate", "config", "--nats-resolver", "--dir", str(base / "jwt"),
       "--config-file", str(conf))  # fmt: skip
    with serve_config(conf) as server:
        yield home, server


def _link_copy(source: Path, target: Path) -> None:
    """A copy whose files are hard links: fast, and a check in itself, since every write of a
    rotation must replace files (temp + rename), never change one in place, or the template
    and the earlier runs would see it."""
    shutil.copytree(source, target, symlinks=True, copy_function=os.link)


def _command(phase: str, url: str) -> list[str]:
    argv = ["rotate", "signing-key", phase, "-a", "R", "--json"]
    return argv + (["-u", url, *FAST] if phase == "emergency" else [])


def _spawn(home: Path, argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "nscpy", "-H", str(home), *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _timed_run(home: Path, argv: list[str]) -> float:
    """How long an uninterrupted run of argv takes (on a throw-away copy)."""
    began = time.monotonic()
    proc = _spawn(home, argv)
    assert proc.wait(120) == 0
    return time.monotonic() - began


def _assert_valid(home: Path) -> None:
    code, out, _ = run("-H", str(home), "validate", "-A")
    assert code == 0, out


def _assert_completed(home: Path, new_key: str) -> None:
    users = home / "O/accounts/R/users"
    names = sorted(p.stem for p in users.glob("*.jwt") if not p.name.startswith("."))
    assert len(names) == USERS
    for name in names:
        token = (users / f"{name}.jwt").read_text().strip()
        assert peek(token).issuer == new_key, name
        creds = (home / "creds/O/R" / f"{name}.creds").read_text()
        assert parse_decorated_jwt(creds).strip() == token, name
    _assert_valid(home)


def test_sigkill_at_random_moments_then_rerun_completes(
    template: tuple[Path, RunningServer], tmp_path: Path
) -> None:
    base_home, server = template
    _add_rotating_account(base_home)
    rng = random.Random(int(os.environ.get("NSCPY_CRASH_SEED", "12")))
    durations = {}
    for phase in ("start", "emergency"):
        probe = tmp_path / f"probe-{phase}"
        _link_copy(base_home, probe)
        durations[phase] = _timed_run(probe, _command(phase, server.url))
    outcomes: dict[str, int] = {}
    for n in range(RUNS):
        phase = "start" if n % 2 == 0 else "emergency"
        home = tmp_path / f"run{n:02d}"
        _link_copy(base_home, home)
        argv = _command(phase, server.url)
        proc = _spawn(home, argv)
        time.sleep(rng.uniform(0, durations[phase]))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        # whatever the moment, the store is consistent as the kill left it
        _assert_valid(home)
        record = home / "O/.rotations/accounts/R.json"
        state = json.loads(record.read_text())["phase"] if record.exists() else "none"
        outcomes[f"{phase}/{state}"] = outcomes.get(f"{phase}/{state}", 0) + 1
        report = json.loads(ok("-H", str(home), *argv))
        assert report["error"] is None
        assert report["state"] == ("started" if phase == "start" else "finished")
        _assert_completed(home, report["new_key"])
        signing_keys = peek((home / "O/accounts/R/R.jwt").read_text()).to_json_dict()
        assert report["new_key"] in json.dumps(signing_keys)
    print(f"kill outcomes (phase/record state after the kill): {outcomes}")
