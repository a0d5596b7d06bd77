"""The less common writes of nscpy.api: each is the action the CLI command calls."""

from __future__ import annotations

from pathlib import Path

from nscpy import keys
from nscpy.api import AccountEdit, AuthCalloutEdit, ExportChange, ExportSpec, Store


def test_account_settings(tmp_path: Path) -> None:
    store = Store.open(home=tmp_path / "nsc")
    store.add_operator("O")
    store.add_account("O", "A")
    store.add_user("O", "A", "cb")
    store.add_export("O", "A", "svc.>", ExportChange(service=True))
    store.edit_export("O", "A", "svc.>", ExportChange(description="the service"))
    store.add_mapping("O", "A", "in.x", "out.x", weight=50)
    store.edit_authcallout("O", "A", AuthCalloutEdit(auth_users=["cb"], allowed_accounts=["*"]))
    account = store.account("O", "A")
    assert account.exports[0].description == "the service"
    assert [(m.subject, m.weight) for m in account.mappings["in.x"]] == [("out.x", 50)]
    assert account.authorization.allowed_accounts == ["*"]
    store.delete_mapping("O", "A", "in.x")
    assert "in.x" not in store.account("O", "A").mappings


def test_moving_jwts_and_seeds_between_stores(tmp_path: Path) -> None:
    source = Store.open(home=tmp_path / "a")
    source.add_operator("O")
    source.add_account("O", "A")
    source.add_user("O", "A", "u")
    keys_dir = tmp_path / "keys"
    source.export_keys(ExportSpec(keys_dir, all=True))
    (tmp_path / "A.jwt").write_text(source.account_jwt("O", "A"))
    target = Store.open(home=tmp_path / "b")
    target.import_operator(source.workspace.store.read_operator("O"))
    target.import_keys(keys_dir)
    target.import_account("O", tmp_path / "A.jwt")
    target.import_user("O", source.creds_path("O", "A", "u"))
    assert target.users("O", "A") == ["u"]
    assert target.creds("O", "A", "u") == source.creds("O", "A", "u")
    old = target.operator("O").subject
    target.reissue_operator("O")
    assert target.operator("O").subject != old
    seed = keys.create_pair(keys.Prefix.ACCOUNT).seed
    where = target.put_seed(seed)
    assert Path(where).read_text() == seed


def test_plan_apply_export_and_renew(tmp_path: Path) -> None:
    from nscpy.api import read_spec
    from tests.actions.test_apply import SPEC

    path = tmp_path / "spec.toml"
    path.write_text(SPEC)
    spec = read_spec([path])
    store = Store.open(home=tmp_path / "nsc")
    assert store.plan(spec).changes()  # an empty store: everything to create
    store.apply(spec)
    assert store.plan(spec).changes() == []
    operator = store.operators()[0]
    assert store.export_spec(operator)["operator"]["name"] == operator
    report = store.renew_users(operator, within=2_000_000_000, expiry=2_100_000_000, dry_run=True)
    assert report is not None


def test_rotation_phases_run_through_the_api(tmp_path: Path) -> None:
    from nscpy.api import UsageProblem

    store = Store.open(home=tmp_path / "nsc")
    store.add_operator("O")
    store.add_account("O", "A")
    store.edit_account("O", "A", AccountEdit(signing_keys=["generate"]))
    old = next(iter(store.account("O", "A").signing_keys))
    store.rotate_signing_key("O", "A", "start")
    assert len(store.account("O", "A").signing_keys) == 2  # old and new side by side
    store.rotate_signing_key("O", "A", "finish")
    assert old not in store.account("O", "A").signing_keys
    try:
        store.rotate_signing_key("O", "A", "sideways")
    except UsageProblem as exc:
        assert "phase must be one of" in str(exc)
    else:
        raise AssertionError("an unknown phase was accepted")
