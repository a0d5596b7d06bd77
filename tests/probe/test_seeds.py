"""Nothing that looks like a seed appears in any message or traceback.

Every seed-taking flag gets the usual mistyped seeds (a character too many or too few,
truncated, lower-cased, quoted, without the S, split by a space), with and without
NSCPY_DEBUG; the output must not contain any 16-character window of the seed in either case.
Seed flags also take '-' to read the seed from stdin.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from nscpy import keys
from nscpy.jwt import peek
from nscpy.redact import REDACTED, looks_like_seed, redact_seeds
from tests.commands.cliutil import fingerprint, ok, run

WINDOW = 16


def _mangled(seed: str) -> dict[str, str]:
    return {
        "extra char": seed + "Q",
        "one short": seed[:-1],
        "truncated": seed[:40],
        "lower-case": seed.lower(),
        "quoted": f"'{seed}'",
        "double-quoted": f'"{seed}"',
        "S-less": seed[1:],
        "split": seed[:29] + " " + seed[29:],
        "bad checksum": seed[:-2] + ("A" if seed[-2] != "A" else "B") + seed[-1],
        "newline inside": seed[:30] + "\n" + seed[30:],
    }


def _leaks(seed: str, text: str) -> list[str]:
    found = []
    for source in (seed, seed.lower()):
        for i in range(len(source) - WINDOW + 1):
            if source[i : i + WINDOW] in text:
                found.append(source[i : i + WINDOW])
    return found


# (argv template, the role of seed that the flag would take); {S} is the mangled seed
FLAGS = [
    ("add user -a demo -n x -K {S}", keys.Prefix.ACCOUNT),
    ("add user -a demo -n x -k {S}", keys.Prefix.USER),
    ("add account -n x -K {S}", keys.Prefix.OPERATOR),
    ("add account -n x -k {S}", keys.Prefix.ACCOUNT),
    ("add operator -n x -K {S}", keys.Prefix.OPERATOR),
    ("edit account demo --tag t -K {S}", keys.Prefix.OPERATOR),
    ("edit account demo --sk {S}", keys.Prefix.ACCOUNT),
    ("edit user -a demo -n demo --tag t -K {S}", keys.Prefix.ACCOUNT),
    ("edit signing-key -a demo --sk {S} --role r", keys.Prefix.ACCOUNT),
    ("edit authcallout -a demo --auth-user demo --curve {S}", keys.Prefix.CURVE),
    ("revoke user -a demo -n demo -K {S}", keys.Prefix.OPERATOR),
    ("reissue operator -K {S}", keys.Prefix.OPERATOR),
]


def _seed(role: keys.Prefix) -> str:
    if role is keys.Prefix.CURVE:
        return keys.create_curve_pair().seed
    return keys.create_pair(role).seed


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "NSCPY_DEBUG"])
@pytest.mark.parametrize("template,role", FLAGS, ids=[f[0].split(" {")[0] for f in FLAGS])
def test_mistyped_seeds_never_echo(
    home: Path, monkeypatch: pytest.MonkeyPatch, template: str, role: keys.Prefix, debug: bool
) -> None:
    if debug:
        monkeypatch.setenv("NSCPY_DEBUG", "1")
    seed = _seed(role)
    for label, value in _mangled(seed).items():
        argv = [value if part == "{S}" else part for part in template.split(" ")]
        code, out, err = run("-H", str(home), *argv)
        assert code != 0, f"{label}: accepted"
        assert not _leaks(seed, out + err), f"{label}: {out}{err}"


def test_a_seed_in_a_path_or_name_is_redacted(home: Path) -> None:
    seed = keys.create_pair(keys.Prefix.ACCOUNT).seed
    code, _, err = run("-H", str(home), "describe", "user", "-a", seed, "-n", "x")
    assert code == 1 and "not shown: it may be a seed" in err and not _leaks(seed, err)
    code, _, err = run("-H", str(home), "import", "account", "-f", f"/nonexistent/{seed}.jwt")
    assert code == 1 and not _leaks(seed, err)


def test_public_keys_stay_visible_in_messages(home: Path) -> None:
    stranger = keys.create_pair(keys.Prefix.ACCOUNT)
    code, _, err = run("-H", str(home), "add", "user", "-a", "demo", "-n", "x", "-K", stranger.seed)
    assert code == 1 and stranger.public_key in err and not _leaks(stranger.seed, err)


def test_dash_reads_the_seed_from_stdin(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    subject = peek((home / "demo/accounts/demo/demo.jwt").read_text()).subject
    account_seed = (home / "keys/A" / subject[1:3] / f"{subject}.nk").read_text()
    monkeypatch.setattr(sys, "stdin", io.StringIO(account_seed + "\n"))
    code, out, err = run("-H", str(home), "add", "user", "-a", "demo", "-n", "piped", "-K", "-")
    assert code == 0, err
    assert not _leaks(account_seed, out + err)
    assert (home / "demo/accounts/demo/users/piped.jwt").is_file()


def test_dash_twice_is_a_usage_error(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user_seed = keys.create_pair(keys.Prefix.USER).seed
    monkeypatch.setattr(sys, "stdin", io.StringIO(user_seed))
    before = fingerprint(home)
    code, _, err = run(
        "-H", str(home), "add", "user", "-a", "demo", "-n", "x", "-K", "-", "-k", "-"
    )
    assert code == 2 and "stdin was already read for -K" in err
    assert fingerprint(home) == before


def test_dash_with_empty_stdin_is_a_usage_error(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = run("-H", str(home), "add", "user", "-a", "demo", "-n", "x", "-k", "-")
    assert code == 2 and "stdin was empty" in err


def test_short_values_are_still_quoted(home: Path) -> None:
    # the existing message for a short non-seed stays useful
    code, _, err = run("-H", str(home), "add", "user", "-a", "demo", "-n", "x", "-K", "SUBADSEED")
    assert code == 1 and "'SUBADSEED' is not a seed" in err


def test_redaction_rule_examples() -> None:
    seed = keys.create_pair(keys.Prefix.USER).seed
    public = keys.from_seed(seed).public_key
    assert redact_seeds(f"x {seed} y") == f"x {REDACTED} y"
    assert redact_seeds(f"{public}") == public
    assert looks_like_seed(seed.lower()) and looks_like_seed(seed[1:])
    assert looks_like_seed(seed[:28])
    assert looks_like_seed("SUAB2CDEFGHIJKLM") and not looks_like_seed("SUAB2CDEFGHIJKL")
    # words and names stay readable; a letters-only run needs 28 characters to count
    assert not looks_like_seed("productionservices")
    assert looks_like_seed("abcdefghijklmnopqrstuvwxyzab")
    # mixed case (JWT segments, CamelCase names) is not a seed
    assert not looks_like_seed("eyJ0eXAiOiJKV1QiLCJhbGciOiJlZDI1NTE5LW5rZXkifQ")


def test_import_user_reads_creds_from_stdin(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = (home / "creds/demo/demo/demo.creds").read_text()
    ok("-H", str(home), "delete", "user", "-a", "demo", "demo", "--rm-nkey", "--rm-creds")
    monkeypatch.setattr(sys, "stdin", io.StringIO(creds))
    code, out, err = run("-H", str(home), "import", "user", "-f", "-")
    assert code == 0, err
    assert (home / "creds/demo/demo/demo.creds").read_text() == creds
    seed = next(line for line in creds.splitlines() if line.startswith("SU"))
    assert not _leaks(seed, out + err)
