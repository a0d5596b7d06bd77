"""User JWT throughput on one core: nscpy vs the nats-jwt + nkeys PyPI packages, pynacl's ceiling,
and (when `go` is installed) the official Go nats-io/jwt v2 library.

Two operations, as a provisioning service and a server see them:
  create+sign    a fresh user key pair, its UserClaims, encoded and signed by an account key
  decode+verify  parse a user JWT and check its Ed25519 signature

Each figure is the best of N rounds, in operations per second of CPU time spent by this process
(time.process_time; Go reports its getrusage figure): on a shared machine, wall-clock rates
mostly measure the neighbours. The process is pinned to one CPU with os.sched_setaffinity where
the OS allows it (Go inherits the pin and runs with GOMAXPROCS=1). --wall uses wall time instead.

Run: .venv/bin/python bench/bench_jwt.py [--rounds N] [--seconds S] [--no-go]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nacl.bindings as sodium

from nscpy import jwt, keys

IAT = 1_700_000_000
ACCOUNT_SEED_RAW = b"\x42" * 32
GO_SOURCE = Path(__file__).resolve().parent.parent / "tests" / "interop" / "go" / "bench"
GO_ENV = {"GO111MODULE": "off", "GOPATH": "/usr/share/gocode"}


def pin_one_core() -> str:
    """Pin this process (and its children) to one CPU; returns a note saying which."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this OS)"
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})
    return f"pinned to CPU {cpus[-1]} of {len(cpus)}"


def best_rate(
    op: Callable[[], object], rounds: int, seconds: float, clock: Callable[[], float]
) -> float:
    """Best ops/s over `rounds` rounds of about `seconds` each (a calibrated batch per round)."""
    batch = 1
    while True:  # calibrate: a batch that takes >= 20 ms
        start = clock()
        for _ in range(batch):
            op()
        if clock() - start >= 0.02:
            break
        batch *= 2
    best = 0.0
    for _ in range(rounds):
        done, start = 0, clock()
        while True:
            for _ in range(batch):
                op()
            done += batch
            elapsed = clock() - start
            if elapsed >= seconds:
                break
        best = max(best, done / elapsed)
    return best


def nscpy_ops() -> tuple[Callable[[], object], Callable[[], object], str]:
    """nscpy's create+sign and decode+verify, and the token decoded (reused for the peers)."""
    account = keys.KeyPair(keys.Prefix.ACCOUNT, ACCOUNT_SEED_RAW)
    create_pair, user_new, encode = keys.create_pair, jwt.UserClaims.new, jwt.encode
    user_prefix = keys.Prefix.USER

    def create_sign() -> str:
        claims = user_new(create_pair(user_prefix).public_key)
        claims.name = "bench"  # nats-jwt requires a name; give both the same payload
        return encode(claims, account, iat=IAT)

    token = create_sign()
    decode = jwt.decode
    return create_sign, lambda: decode(token), token


def peer_ops(token: str) -> tuple[Callable[[], object], Callable[[], object]] | str:
    """The nats-jwt + nkeys PyPI packages' equivalents, or why they cannot run."""
    try:
        import nkeys
        from nats_jwt.nkeys_ext import create_user_pair
        from nats_jwt.v2.decoder import decode
        from nats_jwt.v2.user_claims import UserClaims
    except ImportError as exc:
        return f"not installed ({exc.name})"
    account = nkeys.from_seed(keys.encode_seed(keys.Prefix.ACCOUNT, ACCOUNT_SEED_RAW).encode())

    def create_sign() -> str:
        user = create_user_pair()
        return str(UserClaims(sub=user.public_key.decode(), name="bench").encode(account))

    # nats-jwt 0.2 cannot decode its own user tokens (it writes "bearer_token": null and then
    # refuses it), so both libraries decode nscpy's token. Its decode() checks the signature
    # against the subject's key and raises only when that check *passes*; the Ed25519 verify
    # still runs, so the cost is comparable.
    create_sign()
    assert decode(token).name == "bench"
    return create_sign, lambda: decode(token)


def ceiling_ops(token: str) -> dict[str, Callable[[], object]]:
    """pynacl straight to libsodium, on the same signing input as the token."""
    head, body, _ = token.split(".")
    signing_input = f"{head}.{body}".encode()
    public, secret = sodium.crypto_sign_seed_keypair(ACCOUNT_SEED_RAW)
    signed = sodium.crypto_sign(signing_input, secret)
    urandom, seed_keypair, sign = os.urandom, sodium.crypto_sign_seed_keypair, sodium.crypto_sign
    return {
        "sign": lambda: sign(signing_input, secret),
        "keypair+sign": lambda: (seed_keypair(urandom(32)), sign(signing_input, secret)),
        "verify": lambda: sodium.crypto_sign_open(signed, public),
    }


def go_figures(
    token: str, seconds: float, rounds: int, wall: bool, extra: tuple[str, ...] = ()
) -> dict[str, float] | str:
    """Build and run tests/interop/go/bench (official Go jwt v2 + nkeys); ops/s or why not.

    extra: more flags for the Go program (bench_issue.py passes -signing-seed)."""
    go = shutil.which("go")
    if go is None:
        return "go not installed (apt-get install golang-go golang-github-nats-io-jwt-dev)"
    env = {**os.environ, **GO_ENV, "GOMAXPROCS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "jwtbench"
        env["GOCACHE"] = os.environ.get("GOCACHE", str(Path(tmp) / "cache"))
        build = subprocess.run(
            [go, "build", "-o", str(binary), "."],
            cwd=GO_SOURCE,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if build.returncode:
            return "go build failed: " + build.stderr.strip().splitlines()[-1]
        account_seed = keys.encode_seed(keys.Prefix.ACCOUNT, ACCOUNT_SEED_RAW)
        run = subprocess.run(
            [
                str(binary),
                f"-seconds={seconds}",
                f"-rounds={rounds}",
                f"-wall={str(wall).lower()}",
                f"-seed={account_seed}",
                *extra,
            ],
            input=token,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60 + 4 * rounds * seconds,
        )
        if run.returncode:
            return "go bench failed: " + run.stderr.strip()
        figures: dict[str, float] = json.loads(run.stdout)
        return figures


def main(argv: list[str] | None = None) -> int:
    """Print one table of throughput figures and the ratios the issue tracks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds per figure (best is kept)")
    parser.add_argument("--seconds", type=float, default=0.5, help="length of one round")
    parser.add_argument("--no-go", action="store_true", help="skip the Go library")
    parser.add_argument("--wall", action="store_true", help="wall-clock time, not CPU time")
    args = parser.parse_args(argv)
    clock = time.perf_counter if args.wall else time.process_time
    rate = lambda op: best_rate(op, args.rounds, args.seconds, clock)  # noqa: E731

    print(
        f"python {sys.version.split()[0]}, {pin_one_core()}, best of {args.rounds},"
        f" ops per {'wall' if args.wall else 'CPU'} second"
    )
    ours_create, ours_decode, token = nscpy_ops()
    rows: dict[str, tuple[float | None, float | None]] = {}
    rows["nscpy"] = (rate(ours_create), rate(ours_decode))
    peer = peer_ops(token)
    if isinstance(peer, str):
        print(f"nats-jwt + nkeys: {peer}")
    else:
        rows["nats-jwt + nkeys (PyPI)"] = (rate(peer[0]), rate(peer[1]))
    if not args.no_go:
        go = go_figures(token, args.seconds, args.rounds, args.wall)
        if isinstance(go, str):
            print(f"Go: {go}")
        else:
            rows["Go nats-io/jwt v2 (GOMAXPROCS=1)"] = (go["create_sign"], go["decode_verify"])
    ceiling = {name: rate(op) for name, op in ceiling_ops(token).items()}
    rows["pynacl sign / verify"] = (ceiling["sign"], ceiling["verify"])
    rows["pynacl keypair+sign / verify"] = (ceiling["keypair+sign"], ceiling["verify"])

    print(f"\n{'':34} {'create+sign/s':>14} {'decode+verify/s':>16}")
    for name, (create, decode) in rows.items():
        cells = [f"{v:>,.0f}" if v is not None else "-" for v in (create, decode)]
        print(f"{name:34} {cells[0]:>14} {cells[1]:>16}")
    ours_c, ours_d = rows["nscpy"]
    assert ours_c is not None and ours_d is not None
    print()
    for name, (create, decode) in rows.items():
        if name != "nscpy" and create and decode:
            print(
                f"nscpy / {name:34} create {ours_c / create:5.2f}x   decode {ours_d / decode:5.2f}x"
            )
    print(
        f"\ntargets: create+sign >= 7,000/s {'met' if ours_c >= 7000 else 'MISSED'},"
        f" decode+verify >= 6,500/s {'met' if ours_d >= 6500 else 'MISSED'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
