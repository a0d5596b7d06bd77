"""Store operations per second: the KV backend (3-node cluster, R3 bucket) beside the directory.

Two operations through the Python API (what every CLI command calls): `add user` (create a user
JWT: a compare-and-set create plus the name check's listing, seed and creds stay local) and
`edit account` (a read-modify-write of one account JWT: read, re-sign, compare-and-set). Each is
run sequentially by one writer, and then by 8 writer threads at once (the edits all on the same
account, so the KV figures include compare-and-set conflicts and retries). Same process, same
run, same machine for both backends, so the ratio holds even on a loaded machine.

Run: .venv/bin/python bench/bench_kvstore.py [--ops N] [--writers W]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nscpy.actions.edit_account import AccountEdit, edit_account  # noqa: E402
from nscpy.actions.operators import OperatorSpec, add_operator  # noqa: E402
from nscpy.actions.users import UserSpec, add_user  # noqa: E402
from nscpy.actions.workspace import Workspace  # noqa: E402
from tests.kvstore.conftest import js_node, js_ready  # noqa: E402
from tests.support.cluster import nats_cluster, wait_until  # noqa: E402


def setup(home: Path, store: str | None) -> None:
    ws = Workspace.open(all_dirs=str(home), store=store)
    add_operator(ws, OperatorSpec(name="O"))
    from nscpy.actions.accounts import AccountSpec, add_account

    add_account(ws, AccountSpec(name="APP"))


def run(home: Path, store: str | None, ops: int, writers: int, what: str) -> float:
    """Operations per second of `what` ('user' or 'edit') with this many writer threads."""
    per = ops // writers

    def worker(w: int, stamp: str) -> None:
        ws = Workspace.open(all_dirs=str(home), store=store)
        for i in range(per):
            if what == "user":
                add_user(ws, UserSpec(name=f"{stamp}-w{w}-{i}", account="APP", operator="O"))
            else:
                tag = f"{stamp}-w{w}-{i}"
                edit_account(ws, AccountEdit(account="APP", operator="O", tags=[tag]))

    stamp = f"{what}{writers}"
    threads = [threading.Thread(target=worker, args=(w, stamp)) for w in range(writers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per * writers / (time.perf_counter() - start)


def adapter(url: str, n: int) -> tuple[float, float]:
    """Reads per second: nscpy's client (one connection on one loop thread) against
    asyncio.run per operation (a connection each time), the alternative the design rejected."""
    import asyncio

    import nats

    from nscpy.store.kvclient import KvClient
    from nscpy.store.kvkeys import parse_store_url

    spec = parse_store_url(url)
    key = "O.=2Ensc"
    client = KvClient(spec)
    client.get(key)  # connected
    start = time.perf_counter()
    for _ in range(n):
        client.get(key)
    threaded = n / (time.perf_counter() - start)
    client.close()

    async def one() -> None:
        nc = await nats.connect(list(spec.servers))
        await nc.jetstream().get_msg(f"KV_{spec.bucket}", subject=f"$KV.{spec.bucket}.{key}")
        await nc.close()

    start = time.perf_counter()
    for _ in range(n):
        asyncio.run(one())
    return threaded, n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ops", type=int, default=200, help="operations per measurement")
    parser.add_argument("--writers", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with nats_cluster(root / "cluster", 3, js_node, name="BENCH") as nodes:
            for node in nodes:
                wait_until(lambda node=node: js_ready(node.url), 30.0, "JetStream")
            url = "nats://" + ",".join(f"127.0.0.1:{n.port}" for n in nodes) + "?bucket=bench"
            backends: dict[str, tuple[Path, str | None]] = {
                "directory": (root / "dir", None),
                "KV (R3, 3 nodes)": (root / "kv", url),
            }
            for home, store in backends.values():
                setup(home, store)
            rows: list[tuple[str, str, int, float]] = []
            measure: list[tuple[str, int]] = [
                ("user", 1), ("user", args.writers), ("edit", 1), ("edit", args.writers)
            ]  # fmt: skip
            for what, writers in measure:
                for name, (home, store) in backends.items():
                    rows.append((what, name, writers, run(home, store, args.ops, writers, what)))
            threaded, per_op = adapter(url, args.ops)
    print(f"{'operation':<14} {'backend':<18} {'writers':>7} {'ops/s':>9}")
    for what, name, writers, rate in rows:
        label = "add user" if what == "user" else "edit account"
        print(f"{label:<14} {name:<18} {writers:>7} {rate:>9.1f}")
    print(f"\nKV read (one key), sync adapter: one loop thread {threaded:.0f}/s, "
          f"asyncio.run + connect per operation {per_op:.0f}/s")  # fmt: skip


if __name__ == "__main__":
    main()
