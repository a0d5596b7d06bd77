"""Run a cluster of real nats-servers on loopback, routes between all of them."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.support.natsserver import PortTaken, RunningServer, free_port, nats_server


def route_count(monitor_port: int) -> int:
    """How many routes the server's /routez reports right now."""
    url = f"http://127.0.0.1:{monitor_port}/routez"
    with urllib.request.urlopen(url, timeout=2) as resp:
        return int(json.load(resp).get("num_routes", 0))


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` every 50 ms until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{what} not reached within {timeout}s")


@contextmanager
def nats_cluster(
    workdir: Path, size: int, node_config: Callable[[int, Path], str], name: str = "C"
) -> Iterator[list[RunningServer]]:
    """Start `size` routed servers; `node_config(i, node_dir)` gives each node's own config body.

    Yields once every node reports a route to every other node (bounded wait).
    """
    for attempt in range(3):
        with ExitStack() as stack:
            try:
                servers = _start_nodes(stack, workdir, size, node_config, name)
            except PortTaken:  # one of the ports picked was bound by someone else meanwhile
                if attempt == 2:
                    raise
                continue
            yield servers
            return


def _start_nodes(
    stack: ExitStack, workdir: Path, size: int, node_config: Callable[[int, Path], str], name: str
) -> list[RunningServer]:
    client_ports = [free_port() for _ in range(size)]
    route_ports = [free_port() for _ in range(size)]
    monitor_ports = [free_port() for _ in range(size)]
    routes = ", ".join(f"nats-route://127.0.0.1:{p}" for p in route_ports)
    servers: list[RunningServer] = []
    for i in range(size):
        node_dir = workdir / f"node{i}"
        node_dir.mkdir(parents=True, exist_ok=True)
        body = (
            f'server_name: "n{i}"\n'
            f'http: "127.0.0.1:{monitor_ports[i]}"\n'
            f'cluster {{ name: "{name}", listen: "127.0.0.1:{route_ports[i]}", '
            f"routes: [{routes}] }}\n"
            f"{node_config(i, node_dir)}"
        )
        servers.append(stack.enter_context(nats_server(node_dir, body, client_ports[i])))
    for port in monitor_ports:

        def routed(port: int = port) -> bool:
            # Pooled routes mean several per peer, so "at least one per peer" suffices.
            return route_count(port) >= size - 1

        wait_until(routed, 20.0, f"routes on :{port}")
    return servers
