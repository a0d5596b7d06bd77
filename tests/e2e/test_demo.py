"""The README's main job keeps working: the demo runs the whole flow on the bundled server."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_demo_runs_on_the_bundled_server() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "nscpy.demo"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "bob received b'order #1'" in out
    assert 'permissions violation for publish to "orders.secret"' in out
    assert 'permissions violation for publish to "orders.new"' in out
    assert "bob's open connection -> server: nats: user authentication revoked" in out
    assert "bob connecting again -> refused" in out and "Authorization Violation" in out
    # the demo never shows a secret
    assert not re.search(r"S[OAUNCX][A-Z2-7]{56}", done.stdout + done.stderr)
