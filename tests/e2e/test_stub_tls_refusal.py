"""A client refused right after the TLS upgrade reads -ERR 'Authorization Violation', never EOF.

The refusal races the end of the handshake: the client's CONNECT can arrive with the handshake's
last flight, before the server has the TLS transport in hand. 200 refused connects per client
(nats.go from Debian's package, and nats-py), on both servers, every one must read the -ERR:
a wrong password (config mode), and in operator mode an expired user and a user of an account
the resolver does not know.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections import Counter
from pathlib import Path

import nats
import pytest
import trustme

from tests.server_stub.harness import run, server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

ATTEMPTS = 200


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    cert.private_key_pem.write_to_path(str(d / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(d / "cert.pem"))
    (d / "tls.conf").write_text(
        f'tls {{ cert_file: "{d}/cert.pem", key_file: "{d}/key.pem" }}\n'
        "authorization { users = [ {user: alice, password: s3cret} ] }\n"
    )
    return {"conf": d / "tls.conf", "ca": d / "ca.pem"}


@pytest.fixture(scope="module")
def operator_world(pki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Operator mode over TLS: an expired user, and a user of an account never preloaded."""
    import time

    from nscpy import keys
    from tests.server_stub.chain import Chain

    chain = Chain.create(tmp_path_factory.mktemp("op"), "APP")
    chain.accounts["GHOST"] = keys.create_pair(keys.Prefix.ACCOUNT)
    d = pki["conf"].parent
    tls = f'tls {{ cert_file: "{d}/cert.pem", key_file: "{d}/key.pem" }}\n'
    conf = chain.config("op-tls", preload=["APP"], extra=tls)
    expired = chain.user("APP", lambda u: setattr(u, "expires", int(time.time()) - 10))
    ghost = chain.user("GHOST")
    assert expired.path is not None and ghost.path is not None
    return {"conf": conf, "expired": expired.path, "unknown-account": ghost.path}


@pytest.fixture(scope="module")
def go_refusal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/interop/go/tlsrefusal built with Debian's nats.go (skips without Go)."""
    from tests.interop.conftest import INSTALL_HINT, build_go_program

    if shutil.which("go") is None:
        pytest.skip(f"the Go toolchain is not installed ({INSTALL_HINT})")
    binary = tmp_path_factory.mktemp("go-tlsrefusal") / "tlsrefusal"
    build_go_program(Path(__file__).parents[1] / "interop" / "go" / "tlsrefusal", binary)
    return binary


@pytest.mark.parametrize("kind", ["nats-server", "stub"])
def test_go_client_refused_after_tls_reads_the_error(pki, go_refusal: Path, kind: str) -> None:
    with server(kind, pki["conf"]) as url:
        argv = [str(go_refusal), "-url", url.replace("nats://", "tls://"), "-ca", str(pki["ca"])]
        argv += ["-user", "alice", "-pass", "wrong", "-n", str(ATTEMPTS)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.splitlines() == [f"{ATTEMPTS} nats: authorization violation"]


async def _py_refusals(
    url: str, ca: Path, creds: Path | None = None, attempts: int = ATTEMPTS
) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    ctx = ssl.create_default_context(cafile=str(ca))
    who: dict[str, str] = (
        {"user_credentials": str(creds)} if creds else {"user": "alice", "password": "wrong"}
    )
    for _ in range(attempts):
        try:
            nc = await nats.connect(
                url,
                tls=ctx,
                **who,
                allow_reconnect=False,
                max_reconnect_attempts=0,
                connect_timeout=5,
            )
        except Exception as exc:
            outcomes[f"{type(exc).__name__}: {exc}"] += 1
        else:
            outcomes["connected"] += 1
            await nc.close()
    return outcomes


@pytest.mark.parametrize("kind", ["nats-server", "stub"])
def test_nats_py_refused_after_tls_reads_the_error(pki, kind: str) -> None:
    with server(kind, pki["conf"]) as url:
        outcomes = run(_py_refusals(url, pki["ca"]), timeout=120)
    assert len(outcomes) == 1, outcomes
    ((text, count),) = outcomes.items()
    assert count == ATTEMPTS and "authorization violation" in text.lower(), outcomes


@pytest.mark.parametrize("who", ["expired", "unknown-account"])
@pytest.mark.parametrize("kind", ["nats-server", "stub"])
def test_operator_users_refused_after_tls_read_the_error(
    pki, operator_world, go_refusal: Path, kind: str, who: str
) -> None:
    creds = operator_world[who]
    # nats-server first tries to fetch an unknown account (a few hundred ms per connect): a
    # handful of attempts show its answer; the stub gets all 200
    attempts = 5 if (kind, who) == ("nats-server", "unknown-account") else ATTEMPTS
    with server(kind, operator_world["conf"]) as url:
        argv = [str(go_refusal), "-url", url.replace("nats://", "tls://"), "-ca", str(pki["ca"])]
        argv += ["-creds", str(creds), "-n", str(attempts)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=True)
        outcomes = run(_py_refusals(url, pki["ca"], creds=creds, attempts=attempts), timeout=120)
    assert done.stdout.splitlines() == [f"{attempts} nats: authorization violation"]
    assert len(outcomes) == 1, outcomes
    ((text, count),) = outcomes.items()
    assert count == attempts and "authorization violation" in text.lower(), outcomes
