"""A client refused right after the TLS upgrade reads -ERR 'Authorization Violation', never EOF.

The refusal races the end of the handshake: the client's CONNECT can arrive with the handshake's
last flight, before the server has the TLS transport in hand. 200 refused connects per client
(nats.go from Debian's package, and nats-py), on both servers, every one must read the -ERR.
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


async def _py_refusals(url: str, ca: Path) -> Counter[str]:
    outcomes: Counter[str] = Counter()
    ctx = ssl.create_default_context(cafile=str(ca))
    for _ in range(ATTEMPTS):
        try:
            nc = await nats.connect(
                url,
                tls=ctx,
                user="alice",
                password="wrong",
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
