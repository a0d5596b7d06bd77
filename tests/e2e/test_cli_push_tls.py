"""push and tool pub/sub against a TLS-only nats-server with a trustme CA.

The server runs the `generate config --nats-resolver` file plus a `tls {}` block, which makes
TLS required. Without the CA, push fails with one line naming the fix; with --ca-cert (or
NATS_CA) it works, for nats:// and for tls:// URLs (nsc refuses tls:// in push).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.commands.cliutil import ok, run
from tests.support.cli_e2e import account_key, build_store, finish, spawn, wait_listening
from tests.support.natsserver import RunningServer, serve_config

pytestmark = pytest.mark.e2e


@dataclass
class World:
    home: Path
    jwt_dir: Path
    ca: Path
    server: RunningServer

    @property
    def h(self) -> tuple[str, ...]:
        return ("-H", str(self.home))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    paths = {name: base / f"{name}.pem" for name in ("ca", "cert", "key")}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    cert.cert_chain_pems[0].write_to_path(str(paths["cert"]))
    cert.private_key_pem.write_to_path(str(paths["key"]))

    home = base / "home"
    build_store(home)
    conf = base / "server.conf"
    jwt_dir = base / "jwt"
    ok("-H", str(home), "generate", "config", "--nats-resolver", "--dir", str(jwt_dir),
       "--config-file", str(conf))  # fmt: skip
    with open(conf, "a") as f:
        f.write(f'tls {{ cert_file: "{paths["cert"]}", key_file: "{paths["key"]}", timeout: 5 }}\n')
    with serve_config(conf) as server:
        yield World(home, jwt_dir, paths["ca"], server)


def test_push_needs_the_ca(world: World) -> None:
    code, out, err = run(*world.h, "push", "-A", "-u", world.server.url, "--timeout", "0.5")
    assert (code, out) == (1, "")
    assert err.startswith(
        f"nscpy: error: no nats-server reachable at {world.server.url}: "
        "TLS certificate verification failed ("
    )
    assert err.endswith("; pass the server's CA (ca_file, --ca-cert or NATS_CA)\n")
    assert err.count("\n") == 1


@pytest.mark.parametrize("scheme", ["nats", "tls"])
def test_push_with_the_ca(world: World, scheme: str) -> None:
    url = f"{scheme}://127.0.0.1:{world.server.port}"
    out = ok(*world.h, "push", "-A", "-u", url, "--ca-cert", str(world.ca),
             "--timeout", "0.5", "--expect-servers", "1")  # fmt: skip
    assert out.splitlines()[-1] == "[ OK ] pushed 2 accounts to a total of 1 nats-server"
    assert (world.jwt_dir / f"{account_key(world.home, 'APP')}.jwt").exists()


def test_tool_pub_sub_over_tls(world: World) -> None:
    ok(*world.h, "push", "-a", "APP", "-u", world.server.url, "--ca-cert", str(world.ca),
       "--timeout", "0.5", "--expect-servers", "1")  # fmt: skip
    who = ("-a", "APP", "-u", "alice", "--nats", world.server.url)
    # the child finds the CA through NATS_CA, the publisher through --ca-cert
    sub = spawn(world.home, "tool", "sub", *who, "orders.tls", "--max-messages", "1",
                "--timeout", "15", env={"NATS_CA": str(world.ca)})  # fmt: skip
    try:
        wait_listening(sub)
        out = ok(*world.h, "tool", "pub", *who, "--ca-cert", str(world.ca), "orders.tls", "sealed")
        code, received, _ = finish(sub)
    finally:
        sub.kill()
    assert out == "published [orders.tls]: 'sealed'\n"
    assert (code, received) == (0, "[#1] received on [orders.tls]: 'sealed'\n")

    code, _, err = run(*world.h, "tool", "pub", *who, "orders.tls", "plain")
    assert code == 1 and "TLS certificate verification failed" in err
