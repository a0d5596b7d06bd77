"""`renew users` re-issues only the users due within the
window, with the same key and claims and a new expiry; every other file is byte-identical.
(Renewed creds connecting to a real nats-server: tests/e2e/test_rotation.py.)
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from nscpy.jwt import UserClaims, decode, parse_decorated_jwt, parse_decorated_seed
from tests.store.test_keyring import MemoryKeyring

from .cliutil import fingerprint, ok, run

DAY = 86400
SEED = re.compile(r"S[A-Z][A-Z2-7]{56}")
"""Anything that looks like an NKey seed (58 characters, S + role + base32)."""


def _user(home: Path, account: str, name: str) -> UserClaims:
    claims = decode((home / "O/accounts" / account / "users" / f"{name}.jwt").read_text())
    assert isinstance(claims, UserClaims)
    return claims


def _store(home: Path, *flags: str) -> None:
    h = ("-H", str(home), *flags)
    ok(*h, "add", "operator", "-n", "O", "--sys")
    ok(*h, "add", "account", "-n", "A")
    ok(*h, "edit", "account", "A", "--sk", "generate")
    ok(*h, "add", "user", "-a", "A", "-n", "soon", "--expiry", "2d", "--allow-pub", "x.>")
    ok(*h, "add", "user", "-a", "A", "-n", "expired", "--expiry", "1d")
    ok(*h, "add", "user", "-a", "A", "-n", "later", "--expiry", "60d")
    ok(*h, "add", "user", "-a", "A", "-n", "never")
    sk = ok(*h, "describe", "account", "A", "-F", "nats.signing_keys").strip()
    signing_key = json.loads(sk)[0]
    ok(*h, "add", "user", "-a", "A", "-n", "by-sk", "--expiry", "3d", "-K", signing_key)
    ok(*h, "add", "account", "-n", "B")
    ok(*h, "add", "user", "-a", "B", "-n", "b-soon", "--expiry", "1d")


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


def _expire_in_past(home: Path, *flags: str) -> None:
    """Make user 'expired' already expired: re-issue it with an expiry in the past."""
    past = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 2 * DAY))
    ok("-H", str(home), *flags, "edit", "user", "-a", "A", "-n", "expired", "--expiry", past)


@pytest.mark.parametrize("backend", ["files", "keyring"])
def test_only_due_users_change_and_keep_their_claims(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    flags = ("--keyring",) if backend == "keyring" else ()
    if backend == "keyring":
        request.getfixturevalue("memory_keyring")
    home = tmp_path / "h"
    _store(home, *flags)
    _expire_in_past(home, *flags)
    before = fingerprint(home)
    old = {n: _user(home, "A", n) for n in ("soon", "expired", "later", "never", "by-sk")}
    started = int(time.time())
    out = ok("-H", str(home), *flags, "renew", "users", "-a", "A", "--json")
    report = json.loads(out)
    renewed = {r["name"]: r for r in report["renewed"]}
    assert sorted(renewed) == ["by-sk", "expired", "soon"]
    assert report["unchanged"] == 2 and report["dry_run"] is False
    assert not SEED.search(out)
    after = fingerprint(home)
    changed = {p for p in after if after[p] != before.get(p)}
    creds = Path("creds/O/A")
    users = Path("O/accounts/A/users")
    assert changed == {
        str(d / f"{n}.{ext}")
        for n in ("soon", "expired", "by-sk")
        for d, ext in ((users, "jwt"), (creds, "creds"))
    }
    for name in renewed:
        new = _user(home, "A", name)
        assert new.expires == report["expiry"] >= started + 30 * DAY - 5
        assert new.issuer == old[name].issuer  # the same key signed it again
        # every other claim is kept
        assert new.subject == old[name].subject and new.name == old[name].name
        assert new.pub == old[name].pub and new.issuer_account == old[name].issuer_account
        assert new.issued_at >= started
        creds_text = (home / creds / f"{name}.creds").read_text()
        assert parse_decorated_jwt(creds_text).strip() == (home / users / f"{name}.jwt").read_text()
        assert parse_decorated_seed(creds_text).startswith("SU")
    assert renewed["soon"]["old_expiry"] == old["soon"].expires
    code, out, _ = run("-H", str(home), *flags, "validate", "-A")
    assert code == 0, out
    # run again: nothing is due any more, nothing changes
    again = json.loads(ok("-H", str(home), *flags, "renew", "users", "-a", "A", "--json"))
    assert again["renewed"] == [] and fingerprint(home) == after


def test_all_accounts_by_default_and_dry_run_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "h"
    _store(home)
    before = fingerprint(home)
    dry = json.loads(ok("-H", str(home), "renew", "users", "--dry-run", "--json"))
    assert sorted(r["name"] for r in dry["renewed"]) == ["b-soon", "by-sk", "expired", "soon"]
    assert fingerprint(home) == before
    out = ok("-H", str(home), "renew", "users", "--within", "90d", "--expiry", "1y")
    assert "renewed 5 user(s); 2 not due" in out  # 'never' and SYS's user do not expire
    assert _user(home, "A", "later").expires == _user(home, "A", "soon").expires


def test_refuses_all_or_nothing_when_a_signer_is_missing(tmp_path: Path) -> None:
    home = tmp_path / "h"
    _store(home)
    sk = _user(home, "A", "by-sk").issuer
    ok("-H", str(home), "edit", "account", "A", "--rm-sk", sk)
    before = fingerprint(home)
    code, _, err = run("-H", str(home), "renew", "users", "-a", "A")
    assert code == 1 and "nothing renewed" in err and "may no longer sign it" in err
    assert fingerprint(home) == before


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--expiry", "0"), "--expiry must be in the future"),
        (("--within", "40d", "--expiry", "20d"), "later than the --within window"),
        (("--within", "soon"), "is not a valid time"),
    ],
)
def test_bad_windows_are_refused(tmp_path: Path, flags: tuple[str, ...], message: str) -> None:
    home = tmp_path / "h"
    _store(home)
    before = fingerprint(home)
    code, _, err = run("-H", str(home), "renew", "users", *flags)
    assert code in (1, 2) and message in err
    assert fingerprint(home) == before


def test_expirations_points_to_renew(tmp_path: Path) -> None:
    home = tmp_path / "h"
    _store(home)
    assert "nscpy renew users --within 1M" in ok("-H", str(home), "expirations")
