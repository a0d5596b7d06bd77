"""The JetStream differential with nats.go (Debian's golang-github-nats-io-go-nats-dev).

tests/interop/go/jetstream runs one program (KV, Object Store, ordered and flow-controlled
push consumers, pull heartbeats, an abandoned pull inbox, queue groups, rollup, sealed, TTL,
pause, then async publishes, expectations, start options, AckAll, links, direct gets...)
against a URL; it runs against nats-server and against the stub, and the two JSON
outputs must be equal.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_js_nats_py import real_url, run, stub_url
from tests.interop.conftest import build_go_program

pytestmark = pytest.mark.e2e

SOURCE = Path(__file__).parents[1] / "interop" / "go" / "jetstream"
NATS_GO = Path("/usr/share/gocode/src/github.com/nats-io/nats.go")


@pytest.fixture(scope="module")
def go_program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("go") is None or not NATS_GO.is_dir():
        pytest.skip(
            "go or Debian's nats.go missing: apt-get install golang-github-nats-io-go-nats-dev"
        )
    binary = tmp_path_factory.mktemp("gojs") / "jetstream"
    build_go_program(SOURCE, binary)
    return binary


async def run_program(binary: Path, url: str) -> dict[str, Any]:
    done = await asyncio.to_thread(
        subprocess.run,
        [str(binary), url],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_nats_go_program_sees_the_same_jetstream(tmp_path: Path, go_program: Path) -> None:
    async def both() -> tuple[dict[str, Any], dict[str, Any]]:
        async with real_url(tmp_path / "real") as url:
            real = await run_program(go_program, url)
        async with stub_url(tmp_path / "stub") as url:
            stub = await run_program(go_program, url)
        return real, stub

    real, stub = run(both())
    assert real["os_put"][2] == 25 and real["ordered"] == list(range(1, 41))
    assert real["kv_keys"] == ["a"] and real["kv_ttl"] == ["ok", "nats: key not found"]
    assert real["abandoned"] == [1, 0, 0]
    # nats-server picks a queue member at random; the stub takes turns: only the stub's
    # spread is held to "within 20% of even"
    real_counts, stub_counts = real.pop("queue_counts"), stub.pop("queue_counts")
    assert sum(real_counts) == sum(stub_counts) == 300
    assert all(80 <= count <= 120 for count in stub_counts), stub_counts
    # replay_policy original is refused by the stub on purpose (instant replay only)
    assert (real.pop("misc_replay_original"), stub.pop("misc_replay_original")) == (False, True)
    assert stub == real
