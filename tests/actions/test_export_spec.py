"""export spec -> apply: a store re-applies unchanged, and an empty store gets equal claims."""

from __future__ import annotations

from typing import Any

from nscpy.actions.apply import apply_spec
from nscpy.actions.export_spec import export_spec, spec_to_toml
from nscpy.actions.plan import make_plan
from nscpy.jwt import decode
from tests.commands.cliutil import ok
from tests.support.workspace import snapshot, spec_of

_KEYS = ("iat", "jti", "iss", "sub")


def _claims(ws: Any) -> dict[str, Any]:
    """Every JWT's payload by name, keys and signing-time fields removed."""
    out: dict[str, Any] = {}
    op = ws.operator_name()
    out["operator"] = _strip(decode(ws.store.read_operator(op)).to_json_dict())
    for a in ws.store.list_accounts(op):
        out[a] = _strip(decode(ws.store.read_account(op, a)).to_json_dict())
        for u in ws.store.list_users(op, a):
            out[f"{a}/{u}"] = _strip(decode(ws.store.read_user(op, a, u)).to_json_dict())
    return out


def _strip(d: dict[str, Any]) -> Any:
    """Replace every key-shaped string (and the time/identity claims) with a placeholder."""
    d = {k: v for k, v in d.items() if k not in _KEYS}
    return _mask(d)


def _mask(v: Any) -> Any:
    if isinstance(v, dict):
        return {_mask(k): _mask(x) for k, x in v.items()}
    if isinstance(v, list):
        return sorted((_mask(x) for x in v), key=repr)
    if isinstance(v, str) and len(v) == 56 and v[0] in "OAUX" and v.isupper():
        return f"<{v[0]}-key>"
    if isinstance(v, str) and v.count(".") == 2 and v.startswith("eyJ"):
        return "<token>"
    return v


def _cli_store(home: str) -> None:
    h = ("-H", home)
    ok(*h, "add", "operator", "-n", "ACME", "--sys", "--generate-signing-key")
    ok(*h, "edit", "operator", "--service-url", "nats://127.0.0.1:4222", "--tag", "Prod")
    ok(*h, "add", "account", "-n", "ORDERS", "--allow-sub", "_INBOX.>")
    ok(*h, "edit", "account", "ORDERS", "--conns", "100", "--data", "1G", "--sk", "generate")
    ok(
        *h,
        "edit",
        "account",
        "ORDERS",
        "--js-tier",
        "1",
        "--js-mem-storage",
        "64M",
        "--js-disk-storage",
        "1G",
        "--js-streams",
        "10",
        "--js-consumer",
        "100",
    )
    ok(*h, "edit", "account", "ORDERS", "--js-tier", "3", "--js-disk-storage", "2G")
    ok(
        *h,
        "edit",
        "signing-key",
        "-a",
        "ORDERS",
        "--sk",
        "generate",
        "--role",
        "svc",
        "--allow-pub",
        "svc.{{name()}}.>",
        "--allow-sub",
        "_INBOX.>",
        "--description",
        "fleet",
    )
    ok(*h, "add", "export", "-a", "ORDERS", "-s", "svc.time", "--service", "--private")
    ok(*h, "add", "export", "-a", "ORDERS", "-s", "orders.events.>", "-n", "events")
    ok(*h, "add", "mapping", "-a", "ORDERS", "-f", "orders.v1", "-t", "orders.v2", "--weight", "60")
    ok(*h, "add", "mapping", "-a", "ORDERS", "-f", "orders.v1", "-t", "orders.v3", "--weight", "40")
    ok(
        *h,
        "add",
        "user",
        "-a",
        "ORDERS",
        "-n",
        "alice",
        "--allow-pub",
        "orders.>",
        "--deny-pub",
        "orders.secret",
        "--allow-pub-response",
        "3",
        "--response-ttl",
        "5s",
        "--tag",
        "team-a",
        "--expiry",
        "2030-01-01",
    )
    ok(*h, "add", "user", "-a", "ORDERS", "-n", "dev1", "-K", "svc")
    ok(
        *h,
        "edit",
        "user",
        "-a",
        "ORDERS",
        "-n",
        "alice",
        "--source-network",
        "10.0.0.0/8",
        "--time",
        "08:00:00-17:00:00",
        "--locale",
        "Europe/Berlin",
        "--conn-type",
        "STANDARD",
        "--subs",
        "10",
        "--payload",
        "1k",
    )
    ok(*h, "add", "account", "-n", "BILLING")
    ok(
        *h,
        "add",
        "import",
        "-a",
        "BILLING",
        "--src-account",
        "ORDERS",
        "--remote-subject",
        "orders.events.>",
        "-s",
        "billing.events.>",
    )
    token = ok(
        *h, "generate", "activation", "-a", "ORDERS", "-s", "svc.time", "-t", "BILLING", "-o", "--"
    )
    path = f"{home}/act.jwt"
    with open(path, "w") as f:
        f.write(token)
    ok(
        *h,
        "add",
        "import",
        "-a",
        "BILLING",
        "--src-account",
        "ORDERS",
        "--service",
        "--remote-subject",
        "svc.time",
        "-u",
        path,
    )
    ok(*h, "add", "user", "-a", "BILLING", "-n", "bill", "--bearer")


def test_cli_built_store_exports_and_reapplies_unchanged(tmp_path, make_ws):
    home = str(tmp_path / "nsc")
    _cli_store(home)
    ws = make_ws()
    text = spec_to_toml(export_spec(ws))
    before = snapshot(ws.paths.data_dir)
    assert "SU" not in text and "SA" not in text.replace("SAMPLING", "")
    plan = make_plan(ws, spec_of(text))
    assert plan.changes() == [], [(c.name, c.diff) for c in plan.changes()]
    assert apply_spec(ws, spec_of(text)).changes == []
    assert snapshot(ws.paths.data_dir) == before


def test_export_then_apply_to_an_empty_store_gives_equal_claims(tmp_path, make_ws):
    _cli_store(str(tmp_path / "nsc"))
    source = make_ws()
    text = spec_to_toml(export_spec(source))
    target = make_ws("empty")
    result = apply_spec(target, spec_of(text))
    assert result.changes
    assert _claims(target) == _claims(source)
    # the export of the copy is the same spec, and re-applying it changes nothing
    assert spec_to_toml(export_spec(target)) == text
    assert apply_spec(target, spec_of(text)).changes == []


def test_export_is_deterministic_and_cli_writes_file(tmp_path, make_ws):
    _cli_store(str(tmp_path / "nsc"))
    out = tmp_path / "spec.toml"
    ok("-H", str(tmp_path / "nsc"), "export", "spec", "-o", str(out))
    assert out.read_text() == ok("-H", str(tmp_path / "nsc"), "export", "spec")
