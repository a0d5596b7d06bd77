"""Names resolve exactly, and new names that would mislead are refused.

Each reproduction of a past bug is a test: the same input that revoked the wrong user, left
half-written files or made five rows that read "bob".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nscpy.jwt import AccountClaims, decode, peek
from nscpy.store.layout import MAX_NEW_NAME_BYTES
from tests.commands.cliutil import fingerprint, ok, run


def _h(home: Path, *args: str) -> str:
    return ok("-H", str(home), *args)


def _key(home: Path, user: str, account: str = "demo") -> str:
    return peek((home / f"demo/accounts/{account}/users/{user}.jwt").read_text()).subject


def _revoked(home: Path) -> dict[str, int]:
    claims = decode((home / "demo/accounts/demo/demo.jwt").read_text())
    assert isinstance(claims, AccountClaims)
    return dict(claims.revocations.items())


@pytest.fixture
def alices(home: Path) -> Path:
    for name in ("ALICE", "Alice", "alice"):
        _h(home, "add", "user", "-a", "demo", "-n", name)
    return home


def test_revoke_user_takes_the_exact_name(alices: Path) -> None:
    # the bug: "revoke user -a A -n alice" revoked ALICE
    _h(alices, "revoke", "user", "-a", "demo", "-n", "alice")
    assert set(_revoked(alices)) == {_key(alices, "alice")}


@pytest.mark.parametrize(
    "argv",
    [
        ["describe", "user", "-a", "demo", "-n", "aLiCe"],
        ["edit", "user", "-a", "demo", "-n", "aLiCe", "--tag", "x"],
        ["revoke", "user", "-a", "demo", "-n", "aLiCe"],
        ["revocations", "add-user", "-a", "demo", "-u", "aLiCe"],
        ["delete", "user", "-a", "demo", "aLiCe"],
        ["generate", "creds", "-a", "demo", "-n", "aLiCe"],
        ["export", "keys", "--user", "aLiCe", "--dir", "{tmp}/out"],
    ],
)
def test_a_name_in_another_case_is_not_found(alices: Path, tmp_path: Path, argv: list[str]) -> None:
    before = fingerprint(alices)
    code, _, err = run("-H", str(alices), *(a.replace("{tmp}", str(tmp_path)) for a in argv))
    assert code == 1, err
    assert "'aLiCe'" in err and "does not exist" in err
    assert fingerprint(alices) == before


def test_lookup_hint_lists_the_stored_spellings(alices: Path) -> None:
    code, _, err = run("-H", str(alices), "describe", "user", "-a", "demo", "-n", "aLiCe")
    assert code == 1 and "'ALICE', 'Alice', 'alice'" in err


def test_account_and_operator_names_are_exact(home: Path) -> None:
    code, _, err = run("-H", str(home), "describe", "account", "DEMO")
    assert code == 1 and "'DEMO' does not exist" in err
    code, _, err = run("-H", str(home), "describe", "operator", "DEMO")
    assert code == 1 and "'DEMO' does not exist" in err
    code, _, err = run("-H", str(home), "revoke", "user", "-a", "Demo", "-n", "demo")
    assert code == 1 and "'Demo' does not exist" in err
    assert _revoked(home) == {}


def test_two_stored_spellings_of_one_nfc_name_are_ambiguous(home: Path) -> None:
    # written by another tool: two spellings (combining marks in either order) of one NFC name
    users = home / "demo/accounts/demo/users"
    token = (users / "demo.jwt").read_text()
    (users / "e\u0323\u0301.jwt").write_text(token)
    (users / "e\u0301\u0323.jwt").write_text(token)
    code, _, err = run("-H", str(home), "describe", "user", "-a", "demo", "-n", "\u1eb9\u0301")
    assert code == 1 and "could be any of" in err
    # each exact spelling still finds its own file
    ok("-H", str(home), "describe", "user", "-a", "demo", "-n", "e\u0301\u0323")


def test_nfc_form_finds_a_single_nfd_spelling(home: Path) -> None:
    users = home / "demo/accounts/demo/users"
    (users / "cafe\u0301.jwt").write_text((users / "demo.jwt").read_text())
    ok("-H", str(home), "describe", "user", "-a", "demo", "-n", "caf\u00e9")


class _Scope:
    def __init__(self, role: str) -> None:
        self.role = role


def test_a_scoped_role_held_by_two_keys_is_ambiguous() -> None:
    from nscpy.actions.errors import UsageProblem
    from nscpy.actions.lookup import key_for_role

    keys = {"AK1": _Scope("ops"), "AK2": _Scope("ops"), "AK3": None, "AK4": _Scope("dev")}
    with pytest.raises(UsageProblem, match="role 'ops' belongs to 2 signing keys"):
        key_for_role(keys, "ops")
    assert key_for_role(keys, "dev") == "AK4"
    assert key_for_role(keys, "DEV") is None


# -- long names --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [MAX_NEW_NAME_BYTES + 1, 232, 234, 249, 250])
def test_too_long_user_name_writes_nothing(home: Path, size: int) -> None:
    before = fingerprint(home)
    code, _, err = run("-H", str(home), "add", "user", "-a", "demo", "-n", "y" * size)
    assert code == 1 and f"the limit is {MAX_NEW_NAME_BYTES} bytes" in err
    assert fingerprint(home) == before


def test_longest_allowed_names_work_end_to_end(home: Path) -> None:
    longest = "y" * MAX_NEW_NAME_BYTES
    _h(home, "add", "account", "-n", longest)
    _h(home, "add", "user", "-a", longest, "-n", longest)
    assert (home / "creds/demo" / longest / f"{longest}.creds").is_file()
    _h(home, "edit", "user", "-a", longest, "-n", longest, "--tag", "t")
    _h(home, "revoke", "user", "-a", longest, "-n", longest)
    _h(home, "delete", "user", "-a", longest, longest, "--rm-nkey", "--rm-creds")
    _h(home, "delete", "account", "-n", longest)


def test_multibyte_name_length_counts_bytes(home: Path) -> None:
    name = "\u00e9" * (MAX_NEW_NAME_BYTES // 2 + 1)  # two bytes each
    code, _, err = run("-H", str(home), "add", "user", "-a", "demo", "-n", name)
    assert code == 1 and "bytes long" in err


# -- look-alike and reserved names -------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "bob\u200b",  # zero-width space
        "bob\ufeff",  # byte-order mark
        "bob\u2060",  # word joiner
        "bo\u00adb",  # soft hyphen
        "bob\u200d",  # zero-width joiner
        "bob\ufe0f",  # variation selector
        "bob\u3164",  # Hangul filler
        "bob\u00a0x",  # no-break space
        "b\ue000ob",  # private use
    ],
)
def test_invisible_characters_are_refused(home: Path, name: str) -> None:
    _h(home, "add", "user", "-a", "demo", "-n", "bob")
    before = fingerprint(home)
    code, _, err = run("-H", str(home), "add", "user", "-a", "demo", "-n", name)
    assert code == 1 and "U+" in err, err
    assert fingerprint(home) == before


def test_nfd_name_colliding_with_nfc_is_refused(home: Path) -> None:
    _h(home, "add", "user", "-a", "demo", "-n", "caf\u00e9")
    before = fingerprint(home)
    code, _, err = run("-H", str(home), "add", "user", "-a", "demo", "-n", "cafe\u0301")
    assert code == 1 and "already exists" in err
    code, _, err = run("-H", str(home), "add", "user", "-a", "demo", "-n", "\uff43af\u00e9")
    assert code == 1 and "once Unicode-normalised" in err  # full-width c
    assert fingerprint(home) == before


def test_nfd_name_is_stored_in_nfc(home: Path) -> None:
    _h(home, "add", "user", "-a", "demo", "-n", "cafe\u0301")
    users = home / "demo/accounts/demo/users"
    assert (users / "caf\u00e9.jwt").is_file()
    assert peek((users / "caf\u00e9.jwt").read_text()).name == "caf\u00e9"
    # and both spellings find it
    _h(home, "describe", "user", "-a", "demo", "-n", "cafe\u0301")
    _h(home, "describe", "user", "-a", "demo", "-n", "caf\u00e9")


@pytest.mark.parametrize("name", ["nsc.json", "NSC.JSON", "keys", "creds", ".gitignore"])
def test_operator_named_like_a_store_file_is_refused(tmp_path: Path, name: str) -> None:
    store = tmp_path / "D"
    ok("-H", str(store), "add", "operator", "-n", "first")
    before = fingerprint(store)
    code, _, err = run("-H", str(store), "add", "operator", "-n", name)
    assert code == 1, err
    assert fingerprint(store) == before
    ok("-H", str(store), "list", "operators")  # every later command still works


@pytest.mark.parametrize("kind", ["operator", "account", "user"])
def test_dot_names_are_refused(home: Path, kind: str) -> None:
    argv = {"operator": [], "account": [], "user": ["-a", "demo"]}[kind]
    before = fingerprint(home)
    code, _, err = run("-H", str(home), "add", kind, *argv, "-n", ".hidden")
    assert code == 1 and "starts with '.'" in err
    assert fingerprint(home) == before
    ok("-H", str(home), "list", "operators")


def test_keys_is_a_fine_operator_name_when_the_keystore_is_elsewhere(tmp_path: Path) -> None:
    ok(
        "--data-dir",
        str(tmp_path / "data"),
        "--keystore-dir",
        str(tmp_path / "keys"),
        "--config-dir",
        str(tmp_path / "cfg"),
        "add",
        "operator",
        "-n",
        "keys",
    )


def test_every_temp_name_of_the_longest_name_fits_255_bytes() -> None:
    from nscpy.store import durable
    from nscpy.store.layout import CREDS_EXT, TEMP_MARK, TEMP_TAG_MAX

    longest = "\u00e9" * (MAX_NEW_NAME_BYTES // 2) + "y" * (MAX_NEW_NAME_BYTES % 2)
    assert len(longest.encode()) == MAX_NEW_NAME_BYTES
    target = Path(longest + CREDS_EXT)
    assert len(durable._temp_path(target).name.encode()) <= 255
    assert durable._TMP_MARK == TEMP_MARK
    # batch temp names: ".<file>.tmp-<10 hex><counter>", a counter of up to 14 digits
    assert len(f".{target.name}{TEMP_MARK}{'f' * 10}{10**13}".encode()) <= 255
    assert 12 <= TEMP_TAG_MAX and len(f".{longest}.deleted-{'f' * 12}".encode()) <= 255
