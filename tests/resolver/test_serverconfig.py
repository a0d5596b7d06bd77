"""Shapes of the generated nats-server configs (nsc's layout) and the input checks before them."""

from __future__ import annotations

import pytest

from nscpy import keys
from nscpy.serverconfig import (
    AccountEntry,
    ServerConfigError,
    mem_resolver_config,
    nats_resolver_config,
)

FAKE_JWT = "eyJhIjoxfQ.eyJiIjoyfQ.c2ln"


def account_key() -> str:
    return keys.create_pair(keys.Prefix.ACCOUNT).public_key


def test_mem_resolver_layout_sorted_by_public_key() -> None:
    entries = [AccountEntry(f"acct{i}", account_key(), FAKE_JWT) for i in range(4)]
    sys_key = entries[0].public_key
    text = mem_resolver_config("My Op", FAKE_JWT, sys_key, entries)
    lines = text.splitlines()
    assert lines[:5] == [
        '// Operator "My Op"',
        f"operator: {FAKE_JWT}",
        f"system_account: {sys_key}",
        "resolver: MEMORY",
        "resolver_preload: {",
    ]
    assert lines[-1] == "}"
    body = lines[5:-1]
    by_key = {e.public_key: e for e in entries}
    keys_in_order = [line.split(":")[0].strip() for line in body[1::2]]
    assert keys_in_order == sorted(by_key)
    for comment, entry_line in zip(body[::2], body[1::2], strict=True):
        key = entry_line.split(":")[0].strip()
        assert comment == f'  // Account "{by_key[key].name}"'
        assert entry_line == f"  {key}: {FAKE_JWT}"
    assert text.endswith("}\n")


def test_mem_resolver_without_system_account_omits_the_line() -> None:
    text = mem_resolver_config("OP", FAKE_JWT, None, [AccountEntry("A", account_key(), FAKE_JWT)])
    assert "system_account" not in text


def test_names_are_quoted_go_style() -> None:
    text = mem_resolver_config(
        'a "q"\n', FAKE_JWT, None, [AccountEntry("x", account_key(), FAKE_JWT)]
    )
    assert text.splitlines()[0] == '// Operator "a \\"q\\"\\n"'


@pytest.mark.parametrize("cache", [False, True])
def test_nats_resolver_layout(cache: bool) -> None:
    sys_key = account_key()
    text = nats_resolver_config("OP", FAKE_JWT, "SYS", sys_key, FAKE_JWT, cache=cache)
    lines = text.splitlines()
    assert lines[:4] == [
        "# Operator named OP",
        f"operator: {FAKE_JWT}",
        "# System Account named SYS",
        f"system_account: {sys_key}",
    ]
    settings = [
        line.strip()
        for line in lines
        if line.startswith("    ") and not line.strip().startswith("#")
    ]
    if cache:
        assert settings[:4] == ["type: cache", "dir: './jwt'", 'ttl: "1h"', 'timeout: "1.9s"']
    else:
        assert settings[:5] == [
            "type: full",
            "dir: './jwt'",
            "allow_delete: false",
            'interval: "2m"',
            'timeout: "1.9s"',
        ]
    # Only the system account is preloaded.
    assert lines[-3:] == ["resolver_preload: {", f"    {sys_key}: {FAKE_JWT},", "}"]
    assert "nscpy push --all" in text and "nscpy push --prune" in text


def test_allow_delete_and_dir_with_a_quote() -> None:
    text = nats_resolver_config(
        "OP",
        FAKE_JWT,
        "SYS",
        account_key(),
        FAKE_JWT,
        cache=False,
        dir="/d/it's",
        allow_delete=True,
    )
    assert "    allow_delete: true" in text
    assert '    dir: "/d/it\'s"' in text


def test_name_with_newline_stays_in_its_comment() -> None:
    text = nats_resolver_config("O\nP", FAKE_JWT, "S\nYS", account_key(), FAKE_JWT, cache=False)
    assert text.splitlines()[0] == "# Operator named O P"
    assert text.splitlines()[2] == "# System Account named S YS"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"operator_jwt": ""}, "operator JWT is empty"),
        ({"operator_jwt": "a b.c.d"}, "operator JWT must be three base64url parts"),
        ({"system_account": "UBAD"}, "system account must be an account public key"),
        ({"system_account_jwt": "x}y"}, "system account 'SYS' JWT must be three base64url parts"),
        ({"dir": ""}, "resolver dir must not be empty"),
        ({"dir": "a\nb"}, "resolver dir must be one line"),
    ],
)
def test_nats_resolver_refuses_bad_inputs(kwargs: dict[str, str], message: str) -> None:
    args = {
        "operator_name": "OP",
        "operator_jwt": FAKE_JWT,
        "system_account_name": "SYS",
        "system_account": account_key(),
        "system_account_jwt": FAKE_JWT,
        "cache": False,
    }
    args.update(kwargs)
    with pytest.raises(ServerConfigError, match=message):
        nats_resolver_config(**args)  # type: ignore[arg-type]


def test_mem_resolver_refuses_bad_inputs() -> None:
    with pytest.raises(ServerConfigError, match="needs at least one account"):
        mem_resolver_config("OP", FAKE_JWT, None, [])
    key = account_key()
    twice = [AccountEntry("a", key, FAKE_JWT), AccountEntry("b", key, FAKE_JWT)]
    with pytest.raises(ServerConfigError, match="listed twice"):
        mem_resolver_config("OP", FAKE_JWT, None, twice)
    user = keys.create_pair(keys.Prefix.USER).public_key
    with pytest.raises(ServerConfigError, match="must be an account public key"):
        mem_resolver_config("OP", FAKE_JWT, None, [AccountEntry("a", user, FAKE_JWT)])
    with pytest.raises(ServerConfigError, match="account 'a' JWT must be"):
        mem_resolver_config("OP", FAKE_JWT, None, [AccountEntry("a", key, "nope")])
