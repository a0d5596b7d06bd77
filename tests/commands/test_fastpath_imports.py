"""What the fast path imports: `describe ... --json` and `-R` build no claim classes.

Start-up time is a tracked figure (median <= 100 ms); it is measured by
bench/bench_cli.sh, not here (timing tests are flaky on a shared machine). These tests guard the
imports that made it slow: dataclasses/inspect (~15 ms), the claim kinds, the whole store package.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .cliutil import ok

pytestmark = pytest.mark.e2e  # starts processes

# heavy modules a plain JSON or raw describe must not load
FORBIDDEN = (
    "click",
    "keyring",
    "hashlib",
    "dataclasses",
    "inspect",
    "nscpy.jwt.claims",
    "nscpy.jwt.user",
    "nscpy.jwt.account",
    "nscpy.jwt.operator",
    "nscpy.actions.describe",
    "nscpy.actions.users",
    "nscpy.store.keyring_backend",
)
_PROBE = (
    "import json, sys\nfrom nscpy.commands.entry import main\n"
    "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
    f"print(json.dumps([m for m in {FORBIDDEN!r} if m in sys.modules]), file=sys.stderr)\n"
)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("imports") / "nsc"
    ok("-H", str(home), "init", "-n", "demo")
    return home


@pytest.mark.parametrize(
    "argv",
    [
        ["describe", "user", "-a", "demo", "demo", "--json"],
        ["describe", "account", "demo", "-J"],
        ["describe", "operator", "--json"],
        ["describe", "user", "-a", "demo", "demo", "-R"],
    ],
    ids=" ".join,
)
def test_plain_json_and_raw_describes_load_no_claim_classes(home: Path, argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "-H", str(home), *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip()
    assert json.loads(done.stderr) == []


def test_tables_still_decode_typed_claims(home: Path) -> None:
    argv = ["-H", str(home), "describe", "user", "-a", "demo", "demo"]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "Name" in done.stdout
    assert "nscpy.jwt.user" in json.loads(done.stderr)
