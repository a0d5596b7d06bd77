"""apply: idempotent, minimal, prune, dry-run, all-or-nothing."""

from __future__ import annotations

import pytest

from nscpy.actions.apply import apply_spec
from nscpy.actions.plan import make_plan
from nscpy.jwt import AccountClaims, UserClaims, decode
from nscpy.store.jwtstore import StoreBatch
from tests.support.workspace import snapshot, spec_of

SPEC = """
[operator]
name = "ACME"
signing_keys = ["generate"]
system_account = "SYS"

[templates.tenant]
limits = { conns = 100, data = "1G" }
jetstream = { mem_storage = "64M", disk_storage = "1G", streams = 10, consumer = 100 }

[accounts.SYS]

[accounts.ORDERS]
use = "tenant"
signing_keys = [{ role = "svc", allow_pub = ["svc.{{name()}}.>"], allow_sub = ["_INBOX.>"] }]
exports = [{ name = "time", subject = "svc.time", type = "service", private = true }]

[accounts.ORDERS.users.alice]
allow_pub = ["orders.>"]
deny_pub = ["orders.secret"]
allow_sub = ["_INBOX.>"]
expiry = "90d"

[accounts.ORDERS.users.bob]
allow_pub = ["orders.bob"]

[[accounts.ORDERS.user_sets]]
name = "dev-{n:03}"
count = 20
role = "svc"

[accounts.BILLING]
imports = [{ src_account = "ORDERS", remote_subject = "svc.time", type = "service" }]
"""


def test_second_apply_changes_nothing_byte_identical_same_mtimes(make_ws):
    ws = make_ws()
    first = apply_spec(ws, spec_of(SPEC))
    assert len(first.changes) == 1 + 3 + 22
    before = snapshot(ws.paths.data_dir)
    assert any(k.endswith("alice.creds") for k in before)
    again = apply_spec(ws, spec_of(SPEC))
    assert again.changes == [] and again.files_written == 0
    assert snapshot(ws.paths.data_dir) == before
    assert not make_plan(ws, spec_of(SPEC)).has_changes()


def test_relative_expiry_does_not_drift_between_runs(make_ws):
    ws = make_ws(clock=1_800_000_000)
    apply_spec(ws, spec_of(SPEC))
    later = make_ws(clock=1_800_000_000 + 86_400 * 30)
    assert make_plan(later, spec_of(SPEC)).changes() == []


def test_one_permission_change_rewrites_only_that_jwt_and_creds(make_ws):
    ws = make_ws()
    apply_spec(ws, spec_of(SPEC))
    before = snapshot(ws.paths.data_dir)
    changed = SPEC.replace('allow_pub = ["orders.bob"]', 'allow_pub = ["orders.bob", "x.y"]')
    result = apply_spec(ws, spec_of(changed))
    assert [(c.action, c.kind, c.name) for c in result.changes] == [("update", "user", "bob")]
    assert ("nats.pub.allow", ["orders.bob"], ["orders.bob", "x.y"]) in result.changes[0].diff
    after = snapshot(ws.paths.data_dir)
    differ = sorted(k for k in after if after[k] != before.get(k))
    assert differ == ["ACME/accounts/ORDERS/users/bob.jwt", "creds/ACME/ORDERS/bob.creds"]
    assert set(after) == set(before)
    # the seed was kept: the same user key signs in again
    old = decode(before["ACME/accounts/ORDERS/users/bob.jwt"][0].decode())
    new = decode(after["ACME/accounts/ORDERS/users/bob.jwt"][0].decode())
    assert isinstance(new, UserClaims) and new.subject == old.subject


def test_prune_revokes_and_deletes_only_with_the_flag(make_ws):
    ws = make_ws()
    apply_spec(ws, spec_of(SPEC))
    bob = decode(ws.store.read_user("ACME", "ORDERS", "bob"))
    fewer = SPEC.replace('[accounts.ORDERS.users.bob]\nallow_pub = ["orders.bob"]\n', "")
    fewer = fewer.replace(
        '[accounts.BILLING]\nimports = [{ src_account = "ORDERS", remote_subject = "svc.time",'
        ' type = "service" }]\n',
        "",
    )
    without = apply_spec(ws, spec_of(fewer))
    assert without.changes == []
    assert ws.store.has_user("ACME", "ORDERS", "bob") and ws.store.has_account("ACME", "BILLING")
    result = apply_spec(ws, spec_of(fewer), prune=True)
    got = sorted((c.action, c.kind, c.name) for c in result.changes)
    assert got == [
        ("delete", "account", "BILLING"),
        ("revoke", "user", "bob"),
        ("update", "account", "ORDERS"),
    ]
    assert not ws.store.has_user("ACME", "ORDERS", "bob")
    assert not ws.paths.creds_path("ACME", "ORDERS", "bob").exists()
    assert ws.keystore.get(bob.subject) is not None  # seeds are kept
    assert ws.store.list_accounts("ACME") == ["ORDERS", "SYS"]
    assert not ws.paths.account_dir("ACME", "BILLING").exists()
    orders = decode(ws.store.read_account("ACME", "ORDERS"))
    assert isinstance(orders, AccountClaims) and orders.is_claim_revoked(bob)
    assert apply_spec(ws, spec_of(fewer), prune=True).changes == []


def test_dry_run_writes_nothing(make_ws, tmp_path):
    ws = make_ws()
    result = apply_spec(ws, spec_of(SPEC), dry_run=True)
    assert result.dry_run and len(result.changes) == 26
    assert not any(p.is_file() for p in tmp_path.rglob("*"))
    apply_spec(ws, spec_of(SPEC))
    before = snapshot(ws.paths.data_dir)
    changed = SPEC.replace("conns = 100", "conns = 7").replace("count = 20", "count = 25")
    plan = apply_spec(ws, spec_of(changed), dry_run=True)
    assert len(plan.changes) == 6
    assert snapshot(ws.paths.data_dir) == before


BIG = """
[operator]
name = "BIG"
[accounts.A]
signing_keys = [{ role = "r", allow_sub = ["x"] }]
[[accounts.A.user_sets]]
name = "u-{n:04}"
count = 1000
allow_pub = ["PUB"]
"""


class Boom(RuntimeError):
    pass


def _fail_after(monkeypatch, calls: int) -> None:
    real = StoreBatch.write_creds
    seen = {"n": 0}

    def write_creds(self, account, user, text):
        seen["n"] += 1
        if seen["n"] == calls:
            raise Boom(f"injected failure at creds {calls}")
        return real(self, account, user, text)

    monkeypatch.setattr(StoreBatch, "write_creds", write_creds)


def test_failure_in_the_middle_of_1000_users_leaves_the_store_unchanged(make_ws, monkeypatch):
    ws = make_ws()
    apply_spec(ws, spec_of(BIG))
    before = snapshot(ws.paths.data_dir)
    _fail_after(monkeypatch, 500)
    with pytest.raises(Boom):
        apply_spec(ws, spec_of(BIG.replace('["PUB"]', '["PUB2"]')))
    assert snapshot(ws.paths.data_dir) == before
    monkeypatch.undo()
    assert len(apply_spec(ws, spec_of(BIG.replace('["PUB"]', '["PUB2"]'))).changes) == 1000


def test_failure_in_a_first_apply_leaves_no_operator(make_ws, monkeypatch):
    ws = make_ws()
    _fail_after(monkeypatch, 500)
    with pytest.raises(Boom):
        apply_spec(ws, spec_of(BIG))
    assert not ws.store.has_operator("BIG")
    left = [p.name for p in ws.paths.data_dir.rglob("*") if p.is_file()]
    assert left in ([], [".gitignore"])  # the keystore's .gitignore is written up front


def test_failure_after_files_were_written_ahead_leaves_nothing(make_ws, monkeypatch):
    ws = make_ws()
    apply_spec(ws, spec_of(HEAD_ONLY))
    before = snapshot(ws.paths.data_dir)
    _fail_after(monkeypatch, 2500)  # chunks of 1,000 were already being written
    with pytest.raises(Boom):
        apply_spec(ws, spec_of(BIG.replace("count = 1000", "count = 3000")))
    assert snapshot(ws.paths.data_dir) == before
    hidden = [p for p in ws.paths.data_dir.rglob("*") if ".tmp-" in p.name]
    assert hidden == []


HEAD_ONLY = '[operator]\nname = "BIG"\n'


def test_variables_and_overlays_promote_one_spec_to_another_environment(tmp_path, make_ws):
    from nscpy.actions.spec_files import read_spec

    base = tmp_path / "base.toml"
    base.write_text(
        '[vars]\nenv = "dev"\n[operator]\nname = "ACME"\n'
        '[accounts.ORDERS]\ndescription = "orders (${env})"\nlimits = { conns = 10 }\n'
        '[accounts.ORDERS.users.svc]\nallow_pub = ["${env}.orders.>"]\n'
    )
    staging = tmp_path / "staging.toml"
    staging.write_text('[accounts.ORDERS]\nlimits = { conns = 500, data = "1G" }\n')
    varfile = tmp_path / "staging.vars"
    varfile.write_text('env = "staging"\n')
    dev = read_spec([base])
    assert dev.accounts["ORDERS"].description == "orders (dev)"
    stg = read_spec([base, staging], var_files=[varfile])
    assert stg.accounts["ORDERS"].description == "orders (staging)"
    assert stg.accounts["ORDERS"].limits == {"conns": 500, "data": 1_000_000_000}
    assert stg.accounts["ORDERS"].users["svc"].limits.perms.allow_pub == ["staging.orders.>"]
    assert read_spec([base], ["env=prod"]).accounts["ORDERS"].description == "orders (prod)"
    ws = make_ws()
    apply_spec(ws, dev)
    promoted = apply_spec(ws, stg)
    assert sorted((c.kind, c.name) for c in promoted.changes) == [
        ("account", "ORDERS"),
        ("user", "svc"),
    ]
