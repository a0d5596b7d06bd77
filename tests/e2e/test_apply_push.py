"""apply --push on a real nats-server full resolver, drift, repair.

apply --push fills the resolver and users connect with the intended permissions; then the
server loses one account (deleted there) and holds an older JWT of another (the store moved on
without pushing); plan --against reports both; apply --push repairs both.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.commands.cliutil import ok, run
from tests.support.natspy import flush_subscriptions
from tests.support.natsserver import serve_config

pytestmark = pytest.mark.e2e

SPEC = """
[operator]
name = "ACME"
system_account = "SYS"

[accounts.SYS]

[accounts.ORDERS]
limits = {{ conns = {conns} }}

[accounts.ORDERS.users.alice]
allow_pub = ["orders.>"]
deny_pub = ["orders.secret"]
allow_sub = ["_INBOX.>"]

[accounts.ORDERS.users.watcher]
allow_sub = ["orders.>"]
deny_pub = [">"]

[accounts.BILLING]

[accounts.BILLING.users.bill]
"""


async def _permissions(url: str, alice: str, watcher: str) -> list[str]:
    """What watcher receives when alice publishes an allowed and a denied subject."""
    import nats

    got: list[str] = []
    w = await nats.connect(url, user_credentials=watcher, allow_reconnect=False)
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    a = await nats.connect(url, user_credentials=alice, allow_reconnect=False, error_cb=on_error)
    try:
        sub = await w.subscribe("orders.>")
        await flush_subscriptions(w)
        await a.publish("orders.secret", b"no")
        await a.publish("orders.1", b"yes")
        await a.flush()
        msg = await sub.next_msg(timeout=3)
        got.append(f"{msg.subject}={msg.data.decode()}")
        try:
            extra = await sub.next_msg(timeout=0.3)
            got.append(f"{extra.subject}={extra.data.decode()}")
        except nats.errors.TimeoutError:
            pass
        await asyncio.sleep(0.1)
        got += [f"error: {e}" for e in errors]
    finally:
        await a.close()
        await w.close()
    return got


def _applied_store_and_server_config(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(store home, spec, server config): the spec applied to a new store (conns=10), and a
    full-resolver config (allow_delete, resolver dir tmp_path/jwt) for its operator."""
    home = tmp_path / "nsc"
    spec = tmp_path / "acme.toml"
    spec.write_text(SPEC.format(conns=10))
    ok("-H", str(home), "apply", str(spec))
    conf = tmp_path / "server.conf"
    ok("-H", str(home), "generate", "config", "--nats-resolver", "--allow-delete",
       "--dir", str(tmp_path / "jwt"), "--config-file", str(conf))  # fmt: skip
    return home, spec, conf


def test_apply_push_then_drift_is_reported_and_repaired(tmp_path: Path) -> None:
    home, spec, conf = _applied_store_and_server_config(tmp_path)
    h = ("-H", str(home))
    with serve_config(conf) as server:
        url = server.url
        out = ok(*h, "apply", str(spec), f"--push={url}", "--timeout", "0.5")
        assert "no changes" in out
        assert out.count(": jwt updated") == 2  # ORDERS and BILLING were missing there
        creds = home / "creds/ACME/ORDERS"
        got = asyncio.run(
            _permissions(url, str(creds / "alice.creds"), str(creds / "watcher.creds"))
        )
        assert got[0] == "orders.1=yes"
        assert "orders.secret=no" not in got
        assert any("permissions violation" in g.lower() and "orders.secret" in g for g in got), got

        # drift: BILLING deleted on the server; ORDERS changed in the store only
        ok(*h, "push", "-R", "BILLING", "-u", url, "--timeout", "0.5")
        spec.write_text(SPEC.format(conns=20))
        ok(*h, "apply", str(spec))
        code, out, err = run(*h, "plan", str(spec), "--against", url, "--timeout", "0.5", "--json")
        assert code == 3, err
        drift = json.loads(out)["drift"]
        assert [d["name"] for d in drift["missing"]] == ["BILLING"]
        assert [d["name"] for d in drift["stale"]] == ["ORDERS"]
        assert json.loads(out)["changes"] == []
        text = run(*h, "plan", str(spec), "--against", url, "--timeout", "0.5")[1]
        assert "! missing on the server: BILLING" in text
        assert "! stale on the server (older JWT): ORDERS" in text

        out = ok(*h, "apply", str(spec), f"--push={url}", "--timeout", "0.5")
        assert out.count(": jwt updated") == 2
        code, out, err = run(*h, "plan", str(spec), "--against", url, "--timeout", "0.5")
        assert code == 0, out + err
        assert out.strip() == "no changes"
        served = (tmp_path / "jwt").glob("*.jwt")
        assert len(list(served)) == 3


def test_apply_prune_push_deletes_the_pruned_account_on_the_server(tmp_path: Path) -> None:
    from nscpy.jwt import peek

    home, spec, conf = _applied_store_and_server_config(tmp_path)
    h = ("-H", str(home))
    (billing_jwt,) = home.rglob("BILLING.jwt")
    billing = peek(billing_jwt.read_text()).subject
    with serve_config(conf) as server:
        url = server.url
        ok(*h, "apply", str(spec), f"--push={url}", "--timeout", "0.5")
        assert (tmp_path / "jwt" / f"{billing}.jwt").exists()

        spec.write_text(SPEC.format(conns=10).split("[accounts.BILLING]")[0])
        code, out, err = run(*h, "apply", str(spec), "--prune", "--yes", f"--push={url}",
                             "--timeout", "0.5", "--json")  # fmt: skip
        assert code == 0, out + err
        report = json.loads(out)
        assert {"action": "delete", "kind": "account", "name": "BILLING"} in report["changes"]
        replies = [r["text"] for r in report["push"]["replies"]]
        assert f"asked the servers to delete BILLING ({billing})" in replies
        assert any("deleted 1 accounts" in r for r in replies), replies
        assert report["push"]["ok"] is True

        # the server no longer holds it: not served (pack), not in its resolver directory
        code, out, err = run(*h, "plan", str(spec), "--against", url, "--timeout", "0.5", "--json")
        assert code == 0, out + err
        drift = json.loads(out)["drift"]
        assert drift["unknown"] == [] and drift["missing"] == [], drift
        assert not (tmp_path / "jwt" / f"{billing}.jwt").exists()

        # a prune that removes nothing asks the servers to delete nothing
        out = ok(*h, "apply", str(spec), "--prune", "--yes", f"--push={url}", "--timeout", "0.5")
        assert "delete" not in out
