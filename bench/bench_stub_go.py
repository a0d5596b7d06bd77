"""server_stub vs nats-server 2.15.1, measured with the official Go client (bench/loadgen).

A Python client cannot measure a server's speed (it is the bottleneck of both runs), so the load
comes from bench/loadgen, built with Debian's nats.go in GOPATH mode. Both servers run the same
operator-mode config (memory resolver, creds, JetStream on file storage), are started fresh for
each repetition and alternate; each mode prints the median of the repetitions, the ratio, and
the CPU the server and the load generator used, as % of one core (if the generator were busy,
the figure would be the client's, not the server's). The stub's RSS is read after pub->sub and
with 1,000 idle connections.

Usage: .venv/bin/python bench/bench_stub_go.py [--reps 3] [--scale 1.0] [--cipher chachapoly]
       [--sync-interval 2m] [--only MODE,...] [--uvloop] [--spin-us N]
Bounded: every mode has a message count and the load generator a deadline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.natsserver import free_port, nats_server_binary, wait_for_info  # noqa: E402

GOPATH = "/usr/share/gocode"
# (mode label, loadgen mode, messages at scale 1, extra loadgen args)
MODES: list[tuple[str, str, int, list[str]]] = [
    ("pub->sub", "pubsub", 300_000, []),
    ("publish only", "pub", 1_000_000, []),
    ("fan-out x4 (deliveries)", "fanout", 100_000, ["-clients", "4"]),
    ("queue group of 4", "queue", 300_000, ["-clients", "4"]),
    # round trips: long enough (~2 s at scale 0.5) that a moment of noise does not decide it
    ("request/reply, 1 requester", "reqrep", 30_000, ["-clients", "1"]),
    ("request/reply, 16 requesters", "reqrep", 60_000, ["-clients", "16"]),
    ("creds connects", "connect", 500, []),
    ("JetStream sync publish", "jssync", 3_000, []),
    ("JetStream async publish", "jsasync", 50_000, []),
]


def build_loadgen(out: Path) -> Path:
    exe = out / "loadgen"
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": GOPATH, "GOCACHE": str(out / "gocache")}
    subprocess.run(
        ["go", "build", "-o", str(exe), "."], cwd=ROOT / "bench" / "loadgen", env=env, check=True
    )
    return exe


def nscpy(home: Path, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nscpy", "-H", str(home), *argv],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout


def make_store(tmp: Path) -> tuple[Path, Path]:
    """An operator with JetStream-enabled account `bench`; (config base, creds)."""
    home = tmp / "nsc"
    nscpy(home, "init", "-n", "bench")
    nscpy(home, "edit", "account", "bench", "--js-mem-storage", "-1", "--js-disk-storage", "-1",
          "--js-streams", "-1", "--js-consumer", "-1")  # fmt: skip
    base = tmp / "base.conf"
    nscpy(home, "generate", "config", "--mem-resolver", "--config-file", str(base))
    return base, home / "creds" / "bench" / "bench" / "bench.creds"


def config(tmp: Path, base: Path, kind: str, rep: int, cipher: str, sync: str) -> Path:
    store = tmp / f"{kind}-{rep}-js"
    extra = [f'store_dir: "{store}"']
    if cipher:
        extra += [f"cipher: {cipher}", 'key: "bench-key-0123456789abcdef"']
    if sync:
        extra.append(f'sync_interval: "{sync}"')  # unquoted, 2m means 2,000,000 s
    conf = tmp / f"{kind}-{rep}.conf"
    conf.write_text(base.read_text() + "\njetstream {\n  " + "\n  ".join(extra) + "\n}\n")
    return conf


def start(
    kind: str, conf: Path, stub_args: list[str], root: Path = ROOT
) -> tuple[subprocess.Popen[bytes], str]:
    """nats-server, or the stub of the checkout `root` (run from there, it imports its own code)."""
    port = free_port()
    if kind == "nats-server":
        argv = [nats_server_binary(), "-c", str(conf), "-a", "127.0.0.1", "-p", str(port)]
    else:
        argv = [sys.executable, "-m", "server_stub", "-c", str(conf), "-p", str(port), *stub_args]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=root)
    wait_for_info(port, 20.0, proc)
    return proc, f"nats://127.0.0.1:{port}"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_loadgen(
    exe: Path, url: str, creds: Path, mode: str, n: int, extra: list[str]
) -> tuple[float, float, float]:
    """(rate, seconds the rate was measured over, loadgen CPU seconds)."""
    proc = subprocess.Popen(
        [str(exe), "-url", url, "-creds", str(creds), "-mode", mode, "-n", str(n), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read().decode(), proc.stderr.read().decode()
    if status != 0:
        raise RuntimeError(f"loadgen {mode} failed: {err.strip()}")
    result = json.loads(out)
    return result["rate"], result["seconds"], usage.ru_utime + usage.ru_stime


def idle_rss(exe: Path, url: str, creds: Path, proc: subprocess.Popen[bytes], k: int) -> float:
    """RSS of the server holding k idle connections."""
    hold = subprocess.Popen(
        [str(exe), "-url", url, "-creds", str(creds), "-mode", "idle", "-clients", str(k),
         "-hold", "3s"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert hold.stdout is not None
    hold.stdout.readline()  # "connected"
    rss = rss_mb(proc.pid)
    hold.wait(timeout=60)
    return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--cipher", default="", help="JetStream cipher (chachapoly, aes)")
    parser.add_argument("--sync-interval", default="", help="JetStream sync_interval (both)")
    parser.add_argument("--only", default="", help="comma-separated modes to run")
    parser.add_argument("--uvloop", action="store_true", help="the stub on uvloop (nscpy[fast])")
    parser.add_argument(
        "--spin-us", type=int, default=None, help="the stub's --spin-us (default: its own)"
    )
    args = parser.parse_args()
    modes = [m for m in MODES if not args.only or m[1] in args.only.split(",")]
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    memory: dict[str, list[str]] = {"nats-server": [], "stub": []}
    stub_args = ["--uvloop"] if args.uvloop else []
    if args.spin_us is not None:
        stub_args += ["--spin-us", str(args.spin_us)]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        exe = build_loadgen(tmp)
        base, creds = make_store(tmp)
        for rep in range(args.reps):
            for kind in ("nats-server", "stub"):
                conf = config(tmp, base, kind, rep, args.cipher, args.sync_interval)
                proc, url = start(kind, conf, stub_args)
                try:
                    for label, mode, n, extra in modes:
                        before = cpu_seconds(proc.pid)
                        rate, elapsed, client_cpu = run_loadgen(
                            exe, url, creds, mode, max(1, int(n * args.scale)), extra
                        )
                        server_cpu = 100 * (cpu_seconds(proc.pid) - before) / elapsed
                        client_pct = 100 * client_cpu / elapsed
                        results.setdefault((label, kind), []).append((rate, server_cpu, client_pct))
                        if mode == "pubsub" and rep == 0:
                            memory[kind].append(f"after pub->sub {rss_mb(proc.pid):.0f} MB")
                    if rep == 0:
                        idle = idle_rss(exe, url, creds, proc, 1000)
                        memory[kind].append(f"1,000 idle connections {idle:.0f} MB")
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
    print(f"\n{args.reps} repetitions, medians; CPU % of one core: server / load generator")
    print(f"{'figure':32s} {'nats-server':>13s} {'stub':>13s} {'ratio':>7s}   CPU % (real | stub)")
    for label, *_ in modes:
        real, stub = results[(label, "nats-server")], results[(label, "stub")]
        r, s = statistics.median(x[0] for x in real), statistics.median(x[0] for x in stub)
        cpu = " | ".join(
            f"{statistics.median(x[1] for x in v):.0f}/{statistics.median(x[2] for x in v):.0f}"
            for v in (real, stub)
        )
        print(f"{label:32s} {r:13,.0f} {s:13,.0f} {s / r:6.2f}x   {cpu}")
    for kind, notes in memory.items():
        print(f"RSS {kind}: {'; '.join(notes)}")
    print(f"JetStream: file storage{', ' + args.cipher if args.cipher else ''}"
          f"{', sync_interval ' + args.sync_interval if args.sync_interval else ''}; "
          f"stub loop {'uvloop' if args.uvloop else 'asyncio'} {' '.join(stub_args)}; "
          f"time {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")  # fmt: skip


if __name__ == "__main__":
    main()
