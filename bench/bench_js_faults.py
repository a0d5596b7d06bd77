"""JetStream on a full disk, server_stub beside nats-server: what is acked, kept, and served after.

The story of tests/e2e/test_js_faults.py on a bigger tmpfs, any number of rounds: publish 1 KB
messages until the disk is full, free 1 MB, publish 30 more, restart, read every acknowledged
message back, create a new stream. Needs root (it mounts a tmpfs). Run:

    .venv/bin/python bench/bench_js_faults.py [SIZE_MB] [ROUNDS]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.test_js_faults import KINDS, full_disk_story  # noqa: E402
from tests.support.jslosses import lost_in_log  # noqa: E402


def round_on(size_mb: int, kind: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        disk = base / "disk"
        disk.mkdir()
        mount = ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(disk)]
        done = subprocess.run(mount, capture_output=True, text=True, check=False)
        if done.returncode:
            raise SystemExit(f"cannot mount a tmpfs (needs root): {done.stderr.strip()}")
        try:
            r = full_disk_story(kind, base, disk)
        finally:
            subprocess.run(["umount", "-l", str(disk)], check=False)
    kept = sum(1 for seq, data in r["acked"].items() if r["found"].get(seq) == data)
    reported = len(lost_in_log(r["log"], "D")) if kind == "stub" else "-"
    return (
        f"{kind:>11}: {r['full_acks']:6} acked until full, refused {r['refused']}, "
        f"{r['acks_after_freeing']:2}/30 after freeing, {kept}/{len(r['acked'])} acked "
        f"served after restart, losses logged: {reported}, new stream: {r['new_stream']}"
    )


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    print(f"full {size_mb} MB tmpfs, 1 KB messages, chachapoly, operator mode")
    for _ in range(rounds):
        for kind in KINDS:
            print(round_on(size_mb, kind), flush=True)


if __name__ == "__main__":
    main()
