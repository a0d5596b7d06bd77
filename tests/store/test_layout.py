"""layout: nsc's exact paths, name rules and directory resolution (pure, no file system)."""

from __future__ import annotations

from pathlib import Path, PurePath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nscpy import keys
from nscpy.store import InvalidName, StorePaths, resolve_paths, validate_name
from nscpy.store.layout import GITIGNORE_TEXT, MAX_NAME_BYTES, key_relpath

HOME = Path("/home/u")


def test_key_paths_shard_on_first_char_then_next_two(vectors):
    for v in vectors["nkeys"]:
        pub = v["public_key"]
        if pub is None:
            continue
        assert key_relpath(pub) == PurePath("keys", pub[0], pub[1:3], pub + ".nk")
    assert key_relpath("OBUR2EMZFFMIT43GL3KZMOOUWU35J2TRF3TCTVRBXTQJ2DPY2CIFS7C5") == PurePath(
        "keys/O/BU/OBUR2EMZFFMIT43GL3KZMOOUWU35J2TRF3TCTVRBXTQJ2DPY2CIFS7C5.nk"
    )


@pytest.mark.parametrize(
    "bad", ["", "../../etc/passwd", "SUAEEZELRKJR2NLAP7ONPVY4DQQBPW22VAGE3IWBP4BELOKC2V5S34COOU"]
)
def test_key_path_refuses_anything_but_a_public_key(bad):
    with pytest.raises(keys.InvalidPublicKey):
        key_relpath(bad)


def test_store_paths_match_nsc_layout():
    p = StorePaths(Path("/c"), Path("/d/stores"), Path("/d/keys"))
    assert p.nsc_json == Path("/c/nsc.json")
    assert p.operator_nsc_file("O") == Path("/d/stores/O/.nsc")
    assert p.operator_jwt("O") == Path("/d/stores/O/O.jwt")
    assert p.account_jwt("O", "A") == Path("/d/stores/O/accounts/A/A.jwt")
    assert p.user_jwt("O", "A", "U") == Path("/d/stores/O/accounts/A/users/U.jwt")
    assert p.creds_path("O", "A", "U") == Path("/d/keys/creds/O/A/U.creds")
    assert p.gitignore == Path("/d/keys/.gitignore")
    pub = "UAKY3BV2EVDHWDRFTUN22DEQL2WXQP7B36TJLO2D6ML7FTUVLNL3357B"
    assert p.key_path(pub) == Path(f"/d/keys/keys/U/AK/{pub}.nk")
    assert p.with_store_root("/x").account_jwt("O", "A") == Path("/x/O/accounts/A/A.jwt")


def test_gitignore_text_is_byte_for_byte_nscs():
    assert GITIGNORE_TEXT == (
        "# ignore all nk files \n**/*.nk\n\n# ignore all creds files\n**/*.creds\n"
    )


@pytest.mark.parametrize(
    "name", ["A", "my account", "ünïcødé", "a.b", "-x", ".hidden", "...", "a" * MAX_NAME_BYTES]
)
def test_valid_names(name):
    assert validate_name(name, "user") == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "user name must not be empty"),
        ("a/b", "cannot contain '/' or '\\'"),
        ("a\\b", "cannot contain '/' or '\\'"),
        (".", "reserved"),
        ("..", "reserved"),
        ("a\x00b", "control character U+0000"),
        ("a\nb", "control character U+000A"),
        ("a\x7f", "control character U+007F"),
        ("evil\u202etxt", "control character U+202E"),
        (" a", "leading or trailing whitespace"),
        ("a\t", "control character U+0009"),
        ("a ", "leading or trailing whitespace"),
        ("a" * (MAX_NAME_BYTES + 1), "the limit is 249"),
        ("é" * 125, "250 bytes long"),
    ],
)
def test_invalid_names_say_why(name, message):
    with pytest.raises(InvalidName) as err:
        validate_name(name, "user")
    assert message in str(err.value)
    assert "\n" not in str(err.value).replace("\\n", "")


def test_path_methods_validate_every_component():
    p = StorePaths(Path("/c"), Path("/d"), Path("/k"))
    with pytest.raises(InvalidName, match="operator name"):
        p.user_jwt("..", "A", "U")
    with pytest.raises(InvalidName, match="account name"):
        p.creds_path("O", "a/b", "U")
    with pytest.raises(InvalidName, match="user name"):
        p.user_jwt("O", "A", "")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_accepted_name_stays_inside_its_directory(name):
    p = StorePaths(Path("/c"), Path("/d"), Path("/k"))
    try:
        validate_name(name)
    except InvalidName:
        return
    user = p.user_jwt("O", "A", name)
    assert user.parent == p.users_dir("O", "A")
    assert user.name == name + ".jwt"
    assert p.creds_path("O", "A", name).parent == Path("/k/creds/O/A")


# (env, flags, existing paths) -> expected (config_dir, data_dir, keystore_dir)
XDG = ("/home/u/.config/nats/nsc", "/home/u/.local/share/nats/nsc/stores",
       "/home/u/.local/share/nats/nsc/keys")  # fmt: skip
RESOLUTION = [
    ("defaults", {}, {}, (), XDG),
    (
        "xdg env",
        {"XDG_CONFIG_HOME": "/cfg", "XDG_DATA_HOME": "/data"},
        {},
        (),
        ("/cfg/nats/nsc", "/data/nats/nsc/stores", "/data/nats/nsc/keys"),
    ),
    ("empty xdg env is unset", {"XDG_CONFIG_HOME": "", "XDG_DATA_HOME": ""}, {}, (), XDG),
    ("NSC_HOME moves config", {"NSC_HOME": "/nh"}, {}, (), ("/nh", XDG[1], XDG[2])),
    ("NKEYS_PATH moves keys", {"NKEYS_PATH": "/nk"}, {}, (), (XDG[0], XDG[1], "/nk")),
    ("tilde expands", {"NKEYS_PATH": "~/k"}, {}, (), (XDG[0], XDG[1], "/home/u/k")),
    (
        "flags beat env",
        {"NSC_HOME": "/nh", "NKEYS_PATH": "/nk"},
        {"config_dir": "/fc", "keystore_dir": "/fk", "data_dir": "/fd"},
        (),
        ("/fc", "/fd", "/fk"),
    ),
    (
        "-H sets all three",
        {"NSC_HOME": "/nh", "NKEYS_PATH": "/nk"},
        {"all_dirs": "/h", "config_dir": "/fc"},
        (),
        ("/h", "/h", "/h"),
    ),
    ("relative flag is anchored at cwd", {}, {"data_dir": "s/../t"}, (), (XDG[0], "/w/t", XDG[2])),
    (
        "legacy dirs used when only they exist",
        {},
        {},
        ("/home/u/.nsc/nsc.json", "/home/u/.nsc/nats", "/home/u/.nkeys"),
        ("/home/u/.nsc", "/home/u/.nsc/nats", "/home/u/.nkeys"),
    ),
    (
        "new dirs win when both exist",
        {},
        {},
        ("/home/u/.nsc/nsc.json", "/home/u/.nkeys", XDG[0] + "/nsc.json", XDG[2]),
        XDG,
    ),
    ("legacy config dir without nsc.json is ignored", {}, {}, ("/home/u/.nsc",), XDG),
    (
        "legacy ignored when a flag is given",
        {},
        {"keystore_dir": "/fk"},
        ("/home/u/.nkeys",),
        (XDG[0], XDG[1], "/fk"),
    ),
]


@pytest.mark.parametrize(
    ("env", "flags", "existing", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in RESOLUTION],
)
def test_resolution_table(env, flags, existing, expected):
    present = {Path(p) for p in existing}
    got = resolve_paths(env, HOME, cwd=Path("/w"), exists=present.__contains__, **flags)
    assert (str(got.config_dir), str(got.data_dir), str(got.keystore_dir)) == expected


@pytest.mark.parametrize(
    ("env", "cwd_only", "git_ignore"),
    [
        ({}, False, True),
        ({"NSC_CWD_ONLY": "1"}, True, True),
        ({"NSC_CWD_ONLY": ""}, True, True),  # nsc tests presence, not value
        ({"NSC_NO_GIT_IGNORE": "true"}, False, False),
        ({"NSC_NO_GIT_IGNORE": "", "NSC_CWD_ONLY": "x"}, True, False),
    ],
)
def test_switches_follow_env_presence(env, cwd_only, git_ignore):
    got = resolve_paths(env, HOME)
    assert (got.cwd_only, got.git_ignore) == (cwd_only, git_ignore)
