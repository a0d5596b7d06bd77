"""nsc.json: round trip with Go's encoding, NSC_CWD_ONLY, and the context-from-cwd rule."""

from __future__ import annotations

import os
import stat

import pytest

from nscpy.store import (
    Context,
    CorruptStore,
    DataStore,
    cwd_context,
    load_context,
    sane_default,
    save_context,
)


def test_missing_nsc_json_is_an_empty_context(paths):
    assert load_context(paths) == Context()


def test_round_trip_keeps_go_order_and_foreign_fields(paths):
    paths.config_dir.mkdir(parents=True)
    paths.nsc_json.write_text(
        '{"store_root":"/s","operator":"O","account":"A",'
        '"github_updates":"nats-io/nsc","last_update":1700000000}'
    )
    ctx = load_context(paths)
    assert (ctx.store_root, ctx.operator, ctx.account) == ("/s", "O", "A")
    ctx.account = "B<&>"
    assert save_context(paths, ctx) is True
    assert paths.nsc_json.read_text() == (
        '{"store_root":"/s","operator":"O","account":"B\\u003c\\u0026\\u003e",'
        '"github_updates":"nats-io/nsc","last_update":1700000000}'
    )
    assert stat.S_IMODE(os.stat(paths.nsc_json).st_mode) == 0o600
    assert load_context(paths).account == "B<&>"


def test_cwd_only_never_reads_or_writes(make_paths):
    p = make_paths("cwdonly", NSC_CWD_ONLY="1")
    p.config_dir.mkdir(parents=True)
    p.nsc_json.write_text('{"operator":"O"}')
    assert load_context(p) == Context()
    assert save_context(p, Context(operator="X")) is False
    assert p.nsc_json.read_text() == '{"operator":"O"}'


@pytest.mark.parametrize("text", ["{", "[]", '{"operator": 3}'])
def test_corrupt_nsc_json(paths, text):
    paths.config_dir.mkdir(parents=True)
    paths.nsc_json.write_text(text)
    with pytest.raises(CorruptStore):
        load_context(paths)


def test_sane_default():
    assert sane_default("", ["A"]) == "A"
    assert sane_default("B", ["A", "B"]) == "B"
    assert sane_default("C", ["A", "B"]) == ""
    assert sane_default("C", []) == ""


def test_cwd_context(paths):
    ds = DataStore(paths)
    ds.create_operator("O", "t")
    ds.create_account("O", "A", "t")
    root = paths.data_dir
    assert cwd_context(root) == Context(store_root=str(root))
    assert cwd_context(root / "O") == Context(store_root=str(root), operator="O")
    users = root / "O" / "accounts" / "A" / "users"
    users.mkdir()
    assert cwd_context(users) == Context(store_root=str(root), operator="O", account="A")
    assert cwd_context(root / "O" / "accounts") == Context(store_root=str(root), operator="O")
    assert cwd_context(paths.config_dir.parent.parent) is None


def test_cwd_context_takes_strings_and_paths(paths):
    ds = DataStore(paths)
    ds.create_operator("O", "t")
    ds.create_account("O", "A", "t")
    deep = paths.data_dir / "O" / "accounts" / "A" / "users" / "x"
    deep.mkdir(parents=True)
    for where in (paths.data_dir, paths.data_dir / "O", deep, deep.parent):
        assert cwd_context(str(where)) == cwd_context(str(where) + "/") == cwd_context(where)
    assert cwd_context(deep).account == "A"
    assert cwd_context("/") is None or cwd_context("/").store_root == "/"
