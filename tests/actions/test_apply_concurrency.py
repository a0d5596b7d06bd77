"""Four applies of different specs on one store at once lose nothing (the operator lock)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nscpy.actions.plan import make_plan
from tests.commands.cliutil import ok
from tests.support.workspace import spec_of


def _spec(n: int) -> str:
    return f"""
[operator]
name = "SHARED"
signing_keys = ["generate"]

[accounts.T{n}]
limits = {{ conns = {n} }}
signing_keys = [{{ role = "r", allow_pub = ["t{n}.>"] }}]

[[accounts.T{n}.user_sets]]
name = "t{n}-{{n:03}}"
count = 60
role = "r"
"""


@pytest.mark.e2e
@pytest.mark.parametrize("existing", [False, True], ids=["new-operator", "existing-operator"])
def test_four_concurrent_applies_lose_nothing(tmp_path, make_ws, existing):
    home = str(tmp_path / "nsc")
    files = []
    for n in range(4):
        f = tmp_path / f"t{n}.toml"
        f.write_text(_spec(n))
        files.append(f)
    if existing:
        ok("-H", home, "apply", str(files[0]))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "nscpy", "-H", home, "apply", str(f)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in files
    ]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, out + err
    ws = make_ws()
    assert ws.store.list_accounts("SHARED") == ["T0", "T1", "T2", "T3"]
    for n, f in enumerate(files):
        assert len(ws.store.list_users("SHARED", f"T{n}")) == 60
        assert make_plan(ws, spec_of(f.read_text())).changes() == []
    assert "No issues" in ok("-H", home, "validate", "-A")
    # one operator key: the losers of the create race did not leave keys or operators behind
    op_keys = [k for k in ws.keystore.list() if k.public_key.startswith("O")]
    assert len(op_keys) == 2  # identity + one signing key
