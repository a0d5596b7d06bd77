"""--store and its options: bad input is one line and a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kvstore.conftest import nscpy
from tests.support.natsserver import free_port

pytestmark = pytest.mark.e2e  # starts processes


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:4222?bucket=b", "must start with nats:// or tls://"),
        ("nats://127.0.0.1:4222", "needs ?bucket=NAME"),
        ("nats://me:pw@127.0.0.1:4222?bucket=b", "pass --store-creds FILE"),
        ("nats://127.0.0.1:4222?bucket=b&mode=fast", "unknown option 'mode'"),
    ],
)
def test_bad_store_url_is_one_line(tmp_path: Path, url: str, message: str) -> None:
    done = nscpy(tmp_path / "h", url, "list", "accounts")
    assert done.returncode == 1
    assert done.stderr.startswith("nscpy: error: ") and message in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_nothing_listening_is_one_clear_line(tmp_path: Path) -> None:
    url = f"nats://127.0.0.1:{free_port()}?bucket=b"
    done = nscpy(tmp_path / "h", url, "list", "accounts", retry_for=1)
    assert done.returncode == 1
    assert done.stderr.startswith(f"nscpy: error: cannot reach the KV store {url}")
    assert len(done.stderr.splitlines()) == 1


def test_store_options_need_store(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "nscpy", "-H", str(tmp_path), "--store-creds", "x.creds", "env"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 2 and "need --store" in done.stderr


def test_store_commands_need_a_kv_store(tmp_path: Path) -> None:
    from tests.kvstore.conftest import plain

    plain(tmp_path, "add", "operator", "-n", "O")
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "nscpy", "-H", str(tmp_path), "log"],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 1 and "needs a shared store: pass --store" in done.stderr
