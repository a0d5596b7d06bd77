"""--store on an operator-mode, TLS-only nats-server: --store-creds and --store-ca-cert as
push takes its TLS options; without either, one line saying what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from tests.kvstore.conftest import nscpy, ok, plain
from tests.support.natsserver import serve_config

pytestmark = pytest.mark.e2e


def test_store_with_creds_and_tls(tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    pem = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    ca.cert_pem.write_to_path(str(pem["ca"]))
    cert.cert_chain_pems[0].write_to_path(str(pem["cert"]))
    cert.private_key_pem.write_to_path(str(pem["key"]))

    # the deployment's own operator (a directory store) has an account for the team's store
    ops = tmp_path / "ops"
    plain(ops, "add", "operator", "-n", "DEPLOY", "--sys")
    plain(ops, "add", "account", "-n", "NSCSTORE")
    plain(ops, "edit", "account", "-n", "NSCSTORE", "--js-mem-storage", "-1",
          "--js-disk-storage", "-1", "--js-streams", "-1", "--js-consumer", "-1")  # fmt: skip
    plain(ops, "add", "user", "-a", "NSCSTORE", "-n", "admin")
    creds = ops / "creds" / "DEPLOY" / "NSCSTORE" / "admin.creds"
    conf = tmp_path / "server.conf"
    plain(ops, "generate", "config", "--mem-resolver", "--config-file", str(conf))
    with open(conf, "a") as f:
        f.write(f'jetstream {{ store_dir: "{tmp_path / "js"}" }}\n')
        f.write(f'tls {{ cert_file: "{pem["cert"]}", key_file: "{pem["key"]}", timeout: 5 }}\n')

    with serve_config(conf) as server:
        url = f"tls://127.0.0.1:{server.port}?bucket=team"
        home = tmp_path / "alice"
        secured = ("--store-creds", str(creds), "--store-ca-cert", str(pem["ca"]))

        no_ca = nscpy(home, url, "--store-creds", str(creds), "list", "operators", retry_for=1)
        assert no_ca.returncode == 1 and "CERTIFICATE_VERIFY_FAILED" in no_ca.stderr.upper()
        assert len(no_ca.stderr.splitlines()) == 1
        no_creds = nscpy(home, url, "--store-ca-cert", str(pem["ca"]), "list", "operators",
                         retry_for=1)  # fmt: skip
        assert no_creds.returncode == 1 and "authorization" in no_creds.stderr.lower()

        ok(home, url, *secured, "add", "operator", "-n", "TEAM")
        ok(home, url, *secured, "add", "account", "-n", "APP")
        assert "APP" in ok(home, url, *secured, "list", "accounts")
        # NATS_CA stands in for --store-ca-cert, as for push
        import os
        import subprocess
        import sys

        env = {**os.environ, "NATS_CA": str(pem["ca"]), "NSCPY_STORE_CREDS": str(creds)}
        done = subprocess.run(
            [sys.executable, "-m", "nscpy", "-H", str(home), "--store", url, "list", "accounts"],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert done.returncode == 0 and "APP" in done.stdout, done.stderr
