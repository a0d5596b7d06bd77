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
    assert "received b'order #1' on orders.new" in out
    assert 'permissions violation for publish to "orders.secret"' in out
    # the demo never shows a secret
    assert not re.search(r"S[OAUNCX][A-Z2-7]{56}", done.stdout + done.stderr)
