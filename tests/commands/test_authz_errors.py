"""Bad input to the authz commands is one line, exit 1 or 2, no change.

One store is built for the module; every case runs a failing command against it and checks the
exit code, that stderr is exactly one `nscpy: error: ...` line naming the problem, that nothing
went to stdout, and that no file under the store changed (sha256 and mode of every file).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nscpy import keys

from .cliutil import fingerprint, ok, run


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("authz-errors")
    home = base / "nsc"
    h = ("-H", str(home))
    ok(*h, "add", "operator", "-n", "O", "--sys")
    for account in ("A", "B", "J"):
        ok(*h, "add", "account", "-n", account)
    ok(*h, "add", "user", "-a", "A", "-n", "u")
    ok(*h, "edit", "signing-key", "-a", "A", "--sk", "generate", "--role", "dev")
    ok(*h, "add", "user", "-a", "A", "-n", "bob", "-K", "dev")
    ok(*h, "add", "export", "-a", "A", "-s", "priv.x", "-r", "-p")
    ok(*h, "add", "export", "-a", "A", "-s", "pub.x")
    ok(*h, "add", "mapping", "-a", "A", "-f", "m.in", "-t", "m.a", "--weight", "60")
    ok(*h, "edit", "account", "J", "--js-mem-storage", "1M", "--js-disk-storage", "1M")
    ok(*h, "generate", "activation", "-a", "A", "-s", "priv.x", "-t", "B",
       "-o", str(base / "expired.jwt"), "--expiry=-1d")  # fmt: skip
    ok(*h, "generate", "activation", "-a", "A", "-s", "priv.x", "-t", "B",
       "-o", str(base / "for-b.jwt"))  # fmt: skip
    (base / "garbage.jwt").write_text("not a jwt\n")
    yield home


OTHER_ACCOUNT_KEY = keys.create_pair(keys.Prefix.ACCOUNT).public_key
ACCOUNT_SEED = keys.create_pair(keys.Prefix.ACCOUNT).seed

CASES = [
    # unknown signing key or role
    (1, "keystore has no seed", ["edit", "user", "-a", "A", "-n", "u", "-K", OTHER_ACCOUNT_KEY]),
    (1, "may not sign", ["edit", "user", "-a", "A", "-n", "u", "-K", ACCOUNT_SEED]),
    (1, "may not sign", ["edit", "account", "A", "--conns", "1", "-K", ACCOUNT_SEED]),
    (1, "not a seed", ["edit", "user", "-a", "A", "-n", "u", "-K", "nosuchrole"]),
    (1, "neither a signing key nor a scoped role",
     ["edit", "signing-key", "-a", "A", "--sk", "nosuchrole", "--allow-pub", "x"]),
    (1, "is not a signing key of account",
     ["edit", "signing-key", "-a", "A", "--sk", OTHER_ACCOUNT_KEY]),
    (1, "is not a signing key", ["edit", "account", "A", "--rm-sk", OTHER_ACCOUNT_KEY]),
    (1, "is not a signing key of operator", ["edit", "operator", "--rm-sk", "OABC"]),
    # permission flags on a scoped user
    (1, "scoped users require no permissions",
     ["edit", "user", "-a", "A", "-n", "bob", "--allow-pub", "x"]),
    (1, "scoped users require no permissions",
     ["edit", "user", "-a", "A", "-n", "bob", "--subs", "3"]),
    (1, "scoped", ["add", "user", "-a", "A", "-n", "carol", "-K", "dev", "--deny-sub", "x"]),
    # JetStream on the system account
    (1, "system account", ["edit", "account", "SYS", "--js-mem-storage", "1M"]),
    (1, "system account", ["edit", "account", "SYS", "--js-enable", "1"]),
    (1, "system account", ["edit", "operator", "--system-account", "J"]),
    (1, "tiered", ["edit", "account", "J", "--js-tier", "0", "--rm-js-tier", "0", "--js-enable",
                   "2", "--js-streams", "3"]),
    (1, "--rm-js-tier 0", ["edit", "account", "J", "--js-tier", "2", "--js-streams", "3"]),
    (2, "not a valid number", ["edit", "account", "A", "--js-mem-storage", "lots"]),
    # invalid subjects, CIDRs, time ranges, locales, connection types, counts
    (1, "expected a subject without spaces",
     ["edit", "user", "-a", "A", "-n", "u", "--allow-pub", "a b"]),
    (1, "--allow-sub", ["edit", "user", "-a", "A", "-n", "u", "--allow-sub", "a..b"]),
    (1, "not a CIDR", ["edit", "user", "-a", "A", "-n", "u", "--source-network", "10.0.0.0/33"]),
    (2, "not a valid time window",
     ["edit", "user", "-a", "A", "-n", "u", "--time", "25:00:00-26:00:00"]),
    (2, "not a valid time window",
     ["edit", "signing-key", "-a", "A", "--sk", "dev", "--time", "9-5"]),
    (1, "not an IANA time zone", ["edit", "user", "-a", "A", "-n", "u", "--locale", "Mars/Base"]),
    (1, "not a connection type", ["edit", "user", "-a", "A", "-n", "u", "--conn-type", "PIGEON"]),
    (1, "-1 (unlimited) or more", ["edit", "user", "-a", "A", "-n", "u", "--subs", "-5"]),
    (1, "at least 1", ["edit", "user", "-a", "A", "-n", "u", "--allow-pub-response", "0"]),
    (2, "not a valid duration", ["edit", "user", "-a", "A", "-n", "u", "--response-ttl", "soon"]),
    (1, "does not exist", ["edit", "user", "-a", "A", "-n", "nobody", "--allow-pub", "x"]),
    (1, "--trace-context-sampling", ["edit", "account", "A", "--trace-context-sampling", "200"]),
    (1, "info url", ["edit", "account", "A", "--info-url", "not a url"]),
    # operator edits
    (1, "protocol not supported", ["edit", "operator", "--service-url", "http://h:80"]),
    (1, "must be an http(s), nats", ["edit", "operator", "-u", "ftp://h"]),
    (1, "needs an operator signing key", ["edit", "operator", "--require-signing-keys"]),
    (1, "expected operator key", ["edit", "operator", "--sk", OTHER_ACCOUNT_KEY]),
    (1, "must be an operator seed", ["reissue", "operator", "-K", ACCOUNT_SEED]),
    # exports, imports, activations, mappings
    (1, "not a valid subject", ["add", "export", "-a", "A", "-s", "bad subject"]),
    (1, "services only", ["add", "export", "-a", "A", "-s", "s.x", "--latency", "lat.x"]),
    (1, "services only", ["add", "export", "-a", "A", "-s", "s.x", "--response-type", "Stream"]),
    (2, "not a sampling rate",
     ["add", "export", "-a", "A", "-s", "s.x", "-r", "--sampling", "101"]),
    (1, "already exports", ["add", "export", "-a", "A", "-s", "pub.x"]),
    (1, "already exports", ["add", "export", "-a", "A", "-s", "pub.>"]),
    (1, "only be used with wildcard subjects",
     ["add", "export", "-a", "A", "-s", "t.x", "--account-token-position", "1"]),
    (1, "no export", ["edit", "export", "-a", "A", "-s", "nope", "--description", "d"]),
    (1, "no export", ["delete", "export", "-a", "A", "-s", "nope"]),
    (1, "is private: pass --token",
     ["add", "import", "-a", "B", "--src-account", "A", "--remote-subject", "priv.x", "--service"]),
    (1, "is private: pass --token",
     ["add", "import", "-a", "B", "--src-account", "A", "--remote-subject", "priv.x"]),
    (1, "needs --src-account and --remote-subject",
     ["add", "import", "-a", "B", "--src-account", "A"]),
    (1, "no export that covers", ["add", "import", "-a", "B", "--src-account", "A",
                                   "--remote-subject", "nothing.here"]),
    (1, "activation expired at", ["add", "import", "-a", "B", "-u", "{base}/expired.jwt"]),
    (1, "is for account", ["add", "import", "-a", "J", "-u", "{base}/for-b.jwt"]),
    (1, "does not hold a valid activation",
     ["add", "import", "-a", "B", "-u", "{base}/garbage.jwt"]),
    (1, "not covered by the activation", ["add", "import", "-a", "B", "-u", "{base}/for-b.jwt",
                                          "--remote-subject", "priv.y"]),
    (1, "no import", ["delete", "import", "-a", "B", "-s", "nope"]),
    (1, "is public", ["generate", "activation", "-a", "A", "-s", "pub.x", "-t", "B"]),
    (1, "no export that covers", ["generate", "activation", "-a", "A", "-s", "x.y", "-t", "B"]),
    (1, "does not exist", ["generate", "activation", "-a", "A", "-s", "priv.x", "-t", "NOPE"]),
    (2, "--weight", ["add", "mapping", "-a", "A", "-f", "m.in", "-t", "m.b", "--weight", "101"]),
    (1, "would total 110%", ["add", "mapping", "-a", "A", "-f", "m.in", "-t", "m.b",
                             "--weight", "50"]),
    (1, "not a valid subject", ["add", "mapping", "-a", "A", "-f", "m in", "-t", "x"]),
    (1, "no mapping", ["delete", "mapping", "-a", "A", "-f", "nope"]),
    # revocations
    (1, "does not exist", ["revoke", "user", "-a", "A", "-n", "nobody"]),
    (1, "not a user public key", ["revocations", "add-user", "-a", "A", "-u", OTHER_ACCOUNT_KEY]),
    (2, "not a valid time", ["revocations", "add-user", "-a", "A", "-n", "u", "--at", "soon"]),
    (1, "is not revoked", ["revocations", "delete-user", "-a", "A", "-n", "u"]),
    (1, "no export", ["revocations", "add-activation", "-a", "A", "-s", "nope", "-t", "B"]),
    (1, "is public", ["revocations", "add-activation", "-a", "A", "-s", "pub.x", "-t", "B"]),
    (1, "no activation revocation",
     ["revocations", "delete-activation", "-a", "A", "-s", "priv.x", "-t", "B"]),
    # auth callout
    (1, "need at least one --auth-user",
     ["edit", "authcallout", "-a", "A", "--allowed-account", "B"]),
    (1, "cannot be combined", ["edit", "authcallout", "-a", "A", "--disable", "--auth-user", "u"]),
    (1, "neither a user public key", ["edit", "authcallout", "-a", "A", "--auth-user", "ghost"]),
    (1, "--curve", ["edit", "authcallout", "-a", "A", "--auth-user", "u", "--curve", "nope"]),
]  # fmt: skip


def _case_id(argv: list[str]) -> str:
    """The command line, with the module's random keys named: ids must be the same in every
    process (pytest -n collects in each worker and compares)."""
    names = {OTHER_ACCOUNT_KEY: "<other-account-key>", ACCOUNT_SEED: "<account-seed>"}
    return " ".join(names.get(arg, arg) for arg in argv)


@pytest.mark.parametrize(("code", "message", "argv"), CASES, ids=[_case_id(c[2]) for c in CASES])
def test_bad_input_is_one_line_and_changes_nothing(
    home: Path, code: int, message: str, argv: list[str]
) -> None:
    argv = [a.replace("{base}", str(home.parent)) for a in argv]
    before = fingerprint(home)
    got, out, err = run("-H", str(home), *argv)
    assert got == code, (got, out, err)
    assert out == ""
    assert err.startswith("nscpy: error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert fingerprint(home) == before
