"""Stateless issuance on one core: a user JWT + creds per request, as an auth or provisioning
service mints them — nscpy.api.UserIssuer vs the official Go nats-io/jwt v2 + nkeys libraries and
the nats-jwt + nkeys PyPI packages, in the same run.

One issuance: a fresh user key pair; user claims with name, pub allow "orders.>", sub allow
"_INBOX.>", an expiry and issuer_account; signed by an account *signing* key; and the creds text
(the JWT and the user seed between nsc's marker lines). Go formats the creds with
jwt.FormatUserConfig, which decodes and verifies the token first; a second Go row builds the same
text by hand, to show the signing path alone. nats-jwt has no creds formatter, so its row formats
the same text with an f-string (the cheapest possible). The pynacl row is the floor of the work:
key pair + one signature, nothing else.

Figures are the best of N rounds in operations per CPU second of this process (Go: getrusage),
the process pinned to one CPU where the OS allows (see bench_jwt.py; --wall for wall time).

Run: .venv/bin/python bench/bench_issue.py [--rounds N] [--seconds S] [--no-go]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

import nacl.bindings as sodium
from bench_jwt import ACCOUNT_SEED_RAW, best_rate, go_figures, pin_one_core

from nscpy import jwt, keys
from nscpy.api import PermissionSpec, UserIssuer

SIGNING_SEED_RAW = b"\x17" * 32
IAT, EXPIRES = 1_700_000_000, 1_700_003_600
PUB, SUB = "orders.>", "_INBOX.>"


def nscpy_issue() -> tuple[Callable[[], object], str]:
    """UserIssuer.issue with the bench's permissions; returns the op and one token."""
    account = keys.KeyPair(keys.Prefix.ACCOUNT, ACCOUNT_SEED_RAW)
    signer = keys.KeyPair(keys.Prefix.ACCOUNT, SIGNING_SEED_RAW)
    issuer = UserIssuer(signer, account=account.public_key)
    perms = PermissionSpec(allow_pub=[PUB], allow_sub=[SUB])

    def issue() -> object:
        return issuer.issue("svc", permissions=perms, expires=EXPIRES, now=IAT)

    user = issuer.issue("svc", permissions=perms, expires=EXPIRES, now=IAT)
    claims = jwt.decode(user.jwt)
    assert isinstance(claims, jwt.UserClaims) and claims.issuer_account == account.public_key
    return issue, user.jwt


def peer_issue() -> Callable[[], object] | str:
    """nats-jwt + nkeys (PyPI): the same claims, signed, plus the creds text; or why not."""
    try:
        import nkeys
        from nats_jwt.nkeys_ext import create_user_pair
        from nats_jwt.v2.types import Permission
        from nats_jwt.v2.user_claims import User, UserClaims
    except ImportError as exc:
        return f"not installed ({exc.name})"
    account_key = keys.KeyPair(keys.Prefix.ACCOUNT, ACCOUNT_SEED_RAW).public_key
    signer = nkeys.from_seed(keys.encode_seed(keys.Prefix.ACCOUNT, SIGNING_SEED_RAW).encode())

    def issue() -> object:
        user = create_user_pair()
        claims = UserClaims(
            sub=user.public_key.decode(),
            name="svc",
            exp=EXPIRES,
            nats=User(
                pub=Permission(allow=[PUB]), sub=Permission(allow=[SUB]), issuer_account=account_key
            ),
        )
        token = claims.encode(signer)
        seed = user.seed.decode()
        return (
            f"-----BEGIN NATS USER JWT-----\n{token}\n------END NATS USER JWT------\n\n"
            "************************* IMPORTANT *************************\n"
            "NKEY Seed printed below can be used to sign and prove identity.\n"
            "NKEYs are sensitive and should be treated as secrets.\n\n"
            f"-----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n\n"
            "*************************************************************\n"
        )

    text = str(issue())
    token = jwt.parse_decorated_jwt(text).strip()
    claims = jwt.decode(token)  # the peer's JWT must be a valid one for the comparison to count
    assert isinstance(claims, jwt.UserClaims) and claims.pub.allow == [PUB]
    return issue


def floor_op() -> Callable[[], object]:
    """pynacl: a key pair and one signature over a token-sized input."""
    _, secret = sodium.crypto_sign_seed_keypair(SIGNING_SEED_RAW)
    message = b"x" * 420
    urandom, seed_keypair, sign = os.urandom, sodium.crypto_sign_seed_keypair, sodium.crypto_sign
    return lambda: (seed_keypair(urandom(32)), sign(message, secret))


def main(argv: list[str] | None = None) -> int:
    """Print issuance/s for nscpy and its peers, and the ratios."""
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
        f" issuances (user JWT + creds) per {'wall' if args.wall else 'CPU'} second"
    )
    ours, token = nscpy_issue()
    rows: dict[str, float] = {"nscpy.api.UserIssuer": rate(ours)}
    peer = peer_issue()
    if isinstance(peer, str):
        print(f"nats-jwt + nkeys: {peer}")
    else:
        rows["nats-jwt + nkeys (PyPI)"] = rate(peer)
    if not args.no_go:
        signing_seed = keys.encode_seed(keys.Prefix.ACCOUNT, SIGNING_SEED_RAW)
        go = go_figures(
            token, args.seconds, args.rounds, args.wall, (f"-signing-seed={signing_seed}",)
        )
        if isinstance(go, str):
            print(f"Go: {go}")
        else:
            rows["Go nats-io/jwt v2 (GOMAXPROCS=1)"] = go["issue"]
            rows["Go, creds without FormatUserConfig"] = go["issue_no_decode"]
    rows["pynacl keypair+sign (floor)"] = rate(floor_op())
    print()
    for name, value in rows.items():
        print(f"{name:34} {value:>12,.0f}/s")
    print()
    mine = rows["nscpy.api.UserIssuer"]
    for name, value in rows.items():
        if name != "nscpy.api.UserIssuer":
            print(f"nscpy / {name:34} {mine / value:5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
