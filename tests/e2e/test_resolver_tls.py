"""Pushing to a TLS-only full resolver whose certificate comes from a test CA (trustme)."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from nscpy import resolver
from tests.resolver.mint import World
from tests.resolver.servers import full_resolver
from tests.support.natsserver import nats_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    paths = {"ca": tmp_path / "ca.pem", "cert": tmp_path / "cert.pem", "key": tmp_path / "key.pem"}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    cert.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    cert.private_key_pem.write_to_path(str(paths["key"]))
    return paths


def tls_block(pki: dict[str, Path], handshake_first: bool = False) -> str:
    first = ' handshake_first: "100ms",' if handshake_first else ""
    return f'tls {{ cert_file: "{pki["cert"]}", key_file: "{pki["key"]}",{first} timeout: 5 }}\n'


def test_push_over_tls_needs_the_ca(tmp_path: Path, pki: dict[str, Path]) -> None:
    world = World.create("APP")
    conf = full_resolver(world, tmp_path / "jwt") + tls_block(pki)
    with nats_server(tmp_path, conf) as srv:
        pusher = world.user("SYS")
        without_ca = resolver.ConnectOptions([srv.url], pusher.jwt, pusher.seed)
        with pytest.raises(resolver.NoServerReachable) as info:
            resolver.push_accounts(without_ca, world.all_account_jwts(), timeout=0.5)
        assert str(info.value).startswith(
            f"no nats-server reachable at {srv.url}: TLS certificate verification failed ("
        )
        assert "pass the server's CA (ca_file, --ca-cert or NATS_CA)" in str(info.value)

        env = {"NATS_CA": str(pki["ca"])}
        with_ca = resolver.options_from_env([srv.url], pusher.jwt, pusher.seed, env=env)
        assert with_ca.ca_file == str(pki["ca"])
        report = resolver.push_accounts(with_ca, world.all_account_jwts(), timeout=0.5, expect=1)
        report.check()
        assert report.summary() == "pushed 1 account to a total of 1 nats-server"


def test_tls_first_handshake(tmp_path: Path, pki: dict[str, Path]) -> None:
    world = World.create("APP")
    conf = full_resolver(world, tmp_path / "jwt") + tls_block(pki, handshake_first=True)
    with nats_server(tmp_path, conf) as srv:
        pusher = world.user("SYS")
        opts = resolver.ConnectOptions(
            [f"tls://127.0.0.1:{srv.port}"],
            pusher.jwt,
            pusher.seed,
            ca_file=str(pki["ca"]),
            tls_first=True,
        )
        resolver.push_accounts(opts, world.all_account_jwts(), timeout=0.5, expect=1).check()
        assert world.accounts["APP"].pub in resolver.list_accounts(opts, 0.5, expect=1).accounts
