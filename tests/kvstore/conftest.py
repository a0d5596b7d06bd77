"""A three-node JetStream cluster on loopback, and nscpy "machines" (homes) that share a store."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cluster import nats_cluster, wait_until
from tests.support.natsserver import RunningServer, nats_server_binary, stop, wait_for_info


def js_node(i: int, node_dir: Path) -> str:
    return f'jetstream {{ store_dir: "{node_dir / "js"}" }}\n'


@pytest.fixture
def js_cluster(tmp_path: Path) -> Iterator[list[RunningServer]]:
    """Three routed nats-servers with clustered JetStream (a meta leader elected)."""
    with nats_cluster(tmp_path / "cluster", 3, js_node, name="KV") as nodes:
        for node in nodes:
            wait_until(lambda node=node: js_ready(node.url), 30.0, f"JetStream on {node.url}")
        try:
            yield nodes
        finally:
            # a test may replace a node with restart(): the cluster only stops the ones it started
            for node in nodes:
                if node.proc.poll() is None:
                    stop(node.proc)


def js_ready(url: str) -> bool:
    """True once the node answers a JetStream API request (the meta leader is elected)."""

    async def probe() -> bool:
        import nats
        from nats.errors import Error as NatsError

        nc = await nats.connect(url, allow_reconnect=False, connect_timeout=2)
        try:
            await nc.jetstream(timeout=1).account_info()
            return True
        except (NatsError, asyncio.TimeoutError):
            return False
        finally:
            await nc.close()

    return asyncio.run(probe())


def store_url(nodes: list[RunningServer], bucket: str = "nsc", first: int = 0) -> str:
    """The --store URL naming every node, starting with node `first`."""
    order = nodes[first:] + nodes[:first]
    return "nats://" + ",".join(f"127.0.0.1:{n.port}" for n in order) + f"?bucket={bucket}"


def nscpy(
    home: Path, url: str, *argv: str, editor: str = "", timeout: float = 90, retry_for: float = 40
) -> subprocess.CompletedProcess[str]:
    """Run `python -m nscpy -H home --store url argv...` and return what it did."""
    env = {
        **os.environ,
        "NSCPY_EDITOR": editor or home.name,
        "NSCPY_STORE_TIMEOUT": "2",
        "NSCPY_STORE_RETRY": str(retry_for),
    }
    env.pop("NSCPY_STORE", None)
    return subprocess.run(
        [sys.executable, "-m", "nscpy", "-H", str(home), "--store", url, *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def ok(home: Path, url: str, *argv: str) -> str:
    """nscpy(...) that must succeed; its stdout."""
    done = nscpy(home, url, *argv)
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


def restart(server: RunningServer) -> RunningServer:
    """Start a stopped cluster node again with its own config (same ports, same store)."""
    with open(server.log, "ab") as logf:
        proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(server.config)],
            stdout=logf,
            stderr=subprocess.STDOUT,
            cwd=server.config.parent,  # where the first start ran (its relative paths)
        )
    wait_for_info(server.port, proc=proc)
    return RunningServer(proc, server.port, server.config, server.log)


@pytest.fixture
def js_server(tmp_path: Path) -> Iterator[RunningServer]:
    """One nats-server with JetStream (a bucket there has one replica)."""
    from tests.support.natsserver import nats_server

    node = tmp_path / "single"
    with nats_server(node, f'jetstream {{ store_dir: "{node / "js"}" }}') as server:
        wait_until(lambda: js_ready(server.url), 30.0, "JetStream")
        yield server


def plain(home: Path, *argv: str) -> str:
    """nscpy on a directory store (no --store); must succeed; its stdout."""
    env = {**os.environ}
    env.pop("NSCPY_STORE", None)
    done = subprocess.run(
        [sys.executable, "-m", "nscpy", "-H", str(home), *argv],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"{argv}: {done.stderr}"
    return done.stdout


def tree(root: Path) -> dict[str, bytes]:
    """Every file below root (relative path -> bytes)."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def schema_fields(name: str, definition: str = "") -> set[str]:
    """The fields nscpy/schemas/<name>.json requires of an object (all of them: additional
    properties are not allowed in these schemas)."""
    import json

    import nscpy

    schema = json.loads((Path(nscpy.__file__).parent / "schemas" / f"{name}.json").read_text())
    if definition:
        schema = schema["$defs"][definition]
    assert schema["additionalProperties"] is False
    return set(schema["required"])
