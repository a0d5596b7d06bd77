"""nsc's spellings as the NATS docs use them: aliases, -h, -i, -W and nsc's env and key flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nscpy import keys
from tests.commands.cliutil import ok, run


@pytest.fixture
def home(tmp_path: Path) -> str:
    ok("-H", str(tmp_path), "init", "-n", "demo")
    return str(tmp_path)


@pytest.mark.parametrize(
    "argv",
    [
        ("revocations", "add_user", "-a", "demo", "-n", "demo"),
        ("revocations", "add-user", "-a", "demo", "-n", "demo"),
    ],
)
def test_underscore_aliases_run_the_same_command(home: str, argv: tuple[str, ...]) -> None:
    out = ok("-H", home, *argv)
    assert "revoked demo" in out
    listed = json.loads(ok("-H", home, "revocations", "list_users", "-a", "demo", "--json"))
    assert [r["name"] for r in listed] == ["demo"]


def test_aliases_resolve_exactly_and_are_not_listed(home: str) -> None:
    code, _, err = run("-H", home, "revocations", "add__user", "-a", "demo", "-n", "demo")
    assert code == 2 and "No such command 'add__user'" in err
    _, out, _ = run("-H", home, "revocations", "--help")
    assert "add-user" in out and "add_user" not in out
    _, out, _ = run("--help")
    assert " pub " not in out and "create" not in out  # nsc hides its root aliases too


def test_singular_list_aliases_and_create(home: str) -> None:
    assert "demo" in ok("-H", home, "list", "account")
    ok("-H", home, "create", "account", "-n", "B")
    assert "B" in [a["name"] for a in json.loads(ok("-H", home, "list", "accounts", "--json"))]


@pytest.mark.parametrize(
    "argv",
    [(), ("describe", "user"), ("list", "keys"), ("edit", "operator"), ("pub",), ("tool", "sub")],
)
def test_dash_h_is_help_everywhere(argv: tuple[str, ...]) -> None:
    code, out, _ = run(*argv, "-h")
    assert code == 0 and out.startswith("Usage: nscpy")


def test_interactive_flag_accepted_after_any_subcommand(home: str) -> None:
    assert "demo" in ok("-H", home, "list", "accounts", "-i")
    ok("-H", home, "add", "user", "-a", "demo", "-n", "u2", "--interactive")
    assert "u2" in ok("-H", home, "list", "users", "-a", "demo")


def test_long_ids_flag_on_describe_and_list(home: str) -> None:
    pk = json.loads(ok("-H", home, "describe", "account", "demo", "--json"))["sub"]
    assert pk in ok("-H", home, "describe", "account", "demo", "-W")
    assert pk in ok("-H", home, "list", "accounts", "--long-ids")


def test_edit_operator_dash_n_is_the_service_url(home: str) -> None:
    ok("-H", home, "edit", "operator", "-n", "nats://127.0.0.1:4333")
    claims = json.loads(ok("-H", home, "describe", "operator", "--json"))
    assert "nats://127.0.0.1:4333" in claims["nats"]["operator_service_urls"]


def test_generate_nkey_store_keeps_the_seed(home: str) -> None:
    out = ok("-H", home, "generate", "nkey", "--account", "--store").splitlines()
    seed, public_key, stored = out
    assert keys.from_seed(seed).public_key == public_key
    assert stored == f"account key stored {home}/keys/A/{public_key[1:3]}/{public_key}.nk"
    assert Path(stored.split()[-1]).read_text() == seed
    # and the docs' next step uses it by public key
    ok("-H", home, "edit", "account", "demo", "--sk", public_key)
    rows = json.loads(ok("-H", home, "list", "keys", "--json"))
    assert {"entity": "account signing key", "name": "demo", "public_key": public_key} | {
        "stored": True
    } in rows


def test_generate_nkey_store_refuses_roles_the_keystore_does_not_hold(home: str) -> None:
    code, _, err = run("-H", home, "generate", "nkey", "--server", "--store")
    assert code == 2 and "--store keeps operator, account, user or curve keys" in err


def test_env_sets_operator_and_account_and_prints_nsc_rows(home: str) -> None:
    ok("-H", home, "add", "account", "-n", "B")
    out = ok("-H", home, "env", "-a", "B")
    for label in ("NSC Environment", "$NKEYS_PATH", "Stores Dir", "Default Operator"):
        assert label in out
    assert "│ Default Account    │     │ B " in out
    assert json.loads(ok("-H", home, "env", "--json"))["account"] == "B"
    code, _, err = run("-H", home, "env", "-a", "nope")
    assert code == 1 and "account 'nope' does not exist" in err
    assert json.loads(ok("-H", home, "env", "--json"))["account"] == "B"


def test_env_store_sets_the_stores_dir(tmp_path: Path) -> None:
    config, stores = tmp_path / "cfg", tmp_path / "stores"
    ok(
        "--config-dir",
        str(config),
        "--data-dir",
        str(stores),
        "--keystore-dir",
        str(tmp_path / "k"),
        "add",
        "operator",
        "-n",
        "O",
    )
    env = ("--config-dir", str(config), "--keystore-dir", str(tmp_path / "k"))
    ok(*env, "env", "-s", str(stores), "-o", "O")
    assert json.loads(ok(*env, "env", "--json"))["store_root"] == str(stores)
    assert "O" in ok(*env, "list", "operators")
    code, _, err = run(*env, "env", "-s", str(tmp_path / "missing"))
    assert code == 1 and "does not exist" in err


def test_list_keys_filters_as_nsc(home: str) -> None:
    ok("-H", home, "edit", "account", "demo", "--sk", "generate")
    ok("-H", home, "add", "user", "-a", "demo", "-n", "bob")
    everything = json.loads(ok("-H", home, "list", "keys", "--json"))
    assert [r["entity"] for r in everything].count("user") == 3  # sys, demo, bob
    users = json.loads(ok("-H", home, "list", "keys", "--account", "demo", "--users", "--json"))
    assert sorted(r["name"] for r in users) == ["bob", "demo"]
    bob = json.loads(ok("-H", home, "list", "keys", "--account", "demo", "--user", "bob", "--json"))
    assert [r["name"] for r in bob if r["entity"] == "user"] == ["bob"]
    ops = json.loads(ok("-H", home, "list", "keys", "-o", "--json"))
    assert {r["entity"] for r in ops} == {"operator"}
    needle = users[0]["public_key"][5:12]
    hits = json.loads(ok("-H", home, "list", "keys", "-A", "-f", needle, "--json"))
    assert [r["public_key"] for r in hits] == [users[0]["public_key"]]
    code, _, err = run("-H", home, "list", "keys", "--account", "demo", "--user", "nobody")
    assert code == 1 and "has no user 'nobody'" in err


def test_list_keys_table_has_nsc_columns_and_marks(home: str) -> None:
    out = ok("-H", home, "list", "keys")
    assert "│ Entity │ Key " in out and "│ Signing Key │ Stored │" in out
    op_key = json.loads(ok("-H", home, "describe", "operator", "--json"))["sub"]
    assert f"│ demo   │ {op_key} │             │ *      │" in out
    assert "│   demo │ U" in out  # users indented by two


def test_list_keys_show_seeds_only_when_asked(home: str) -> None:
    plain = ok("-H", home, "list", "keys") + ok("-H", home, "list", "keys", "--json")
    assert not any(w.startswith("S") and len(w) == 58 for w in plain.split())
    rows = json.loads(ok("-H", home, "list", "keys", "-S", "--json"))
    for row in rows:
        assert keys.from_seed(row["seed"]).public_key == row["public_key"]
    assert rows[0]["seed"] in ok("-H", home, "list", "keys", "--show-seeds")
    code, _, err = run("-H", home, "list", "keys", "-S", "--not-referenced")
    assert code == 2 and "one of --show-seeds or --not-referenced" in err


def test_list_keys_not_referenced(home: str) -> None:
    seed, public_key, _ = ok("-H", home, "generate", "nkey", "-u", "--store").splitlines()
    rows = json.loads(ok("-H", home, "list", "keys", "--not-referenced", "--json"))
    assert [r["public_key"] for r in rows] == [public_key]
    assert "[?] unreferenced key" in ok("-H", home, "list", "keys", "--not-referenced")
