"""Bad input gives one line on stderr, the right exit code, and no change.

Each case runs the real entry point (main(), as the console script does) on a fresh copy of one
store, and compares a fingerprint (path, mode, sha256) of the whole working directory, the
store and every input file, before and after.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from nscpy import keys
from nscpy.jwt import AccountClaims, UserClaims, encode, format_user_creds

from .cliutil import fingerprint, ok, run

# (id, argv with {H} = store dir, {F} = input files dir, {T} = working dir, exit code, text)
CASES: list[tuple[str, str, int, str]] = [
    ("unknown account", "add user -a nope -n x", 1, "account 'nope' does not exist"),
    ("duplicate user", "add user -a demo -n bob", 1, "user 'bob' already exists"),
    ("duplicate account", "add account -n demo", 1, "already exists"),
    ("duplicate account other case", "add account -n DEMO", 1, "already exists"),
    ("duplicate operator", "add operator -n demo", 1, "operator 'demo' already exists"),
    ("malformed seed to -K", "add user -a demo -n x -K SUBADSEED", 1, "'SUBADSEED' is not a seed"),
    ("seed of another account", "add user -a demo -n x -K {other_seed}", 1, "may not sign"),
    ("seed with a bad checksum", "add user -a demo -n x -K {bad_seed}", 1, "checksum"),
    ("-K file without a seed", "add user -a demo -n x -K {F}/noseed.txt", 1, "not hold a seed"),
    ("user seed signing an account", "add account -n x -K {user_seed}", 1, "may not sign"),
    ("invalid subject", "add user -a demo -n x --allow-pub foo..bar", 1, "foo..bar"),
    ("space in publish subject", "add user -a demo -n x --allow-pub", 1, "a b"),
    ("two spaces in sub", "add user -a demo -n x --allow-sub", 1, "a b c"),
    ("bad duration", "add user -a demo -n x --response-ttl 5x", 2, "'--response-ttl'"),
    ("bad date", "add user -a demo -n x --expiry 2024-13-45", 2, "not a valid date"),
    ("decimal relative date", "add user -a demo -n x --expiry 1.5d", 2, "'--expiry'"),
    ("words for a date", "add user -a demo -n x --start tomorrow", 2, "'--start'"),
    ("bad CIDR", "add user -a demo -n x --source-network 999.1.1.1/8", 1, "999.1.1.1/8"),
    ("non-numeric response max", "add user -a demo -n x --allow-pub-response abc", 2, "abc"),
    ("unknown option", "add user -a demo -n x --bogus", 2, "--bogus"),
    ("slash in name", "add user -a demo -n a/b", 1, "user name 'a/b' cannot contain '/'"),
    ("dot-dot name", "add user -a demo -n ..", 1, "user name '..' is reserved"),
    ("empty name", "add user -a demo -n", 2, "name is required"),
    ("backslash in account name", "add account -n x\\y", 1, "account name 'x\\\\y' cannot"),
    ("slash in operator name", "add operator -n o/p", 1, "operator name 'o/p' cannot"),
    ("unwritable store", "-H {F}/file.txt/sub add operator -n z", 1, "file.txt"),
    ("missing store: list", "-H {T}/missing list accounts", 1, "no operator"),
    ("missing store: add user", "-H {T}/missing add user -n x", 1, "no operator"),
    ("unknown user in describe", "describe user -a demo -n nobody", 1, "'nobody' does not exist"),
    ("unknown account in describe", "describe account nope", 1, "'nope' does not exist"),
    ("bad --field path", "describe account demo -F nats.nope", 1, "nats.nope"),
    ("--field index out of range", "describe user -a demo bob -F nats.pub.allow.9", 1, "range"),
    ("garbage account JWT", "import account -f {F}/garbage.jwt", 1, "not hold a valid JWT"),
    ("missing account file", "import account -f {F}/missing.jwt", 1, "does not exist"),
    ("user JWT as account", "import account -f {F}/user.jwt", 1, "not an account JWT"),
    ("expired account JWT", "import account -f {F}/expired.jwt", 1, "--skip"),
    ("account already there", "import account -f {F}/demo.jwt", 1, "--overwrite"),
    ("corrupt seed in creds", "import user -f {F}/bad.creds", 1, "seed"),
    ("creds of a foreign account", "import user -f {F}/foreign.creds", 1, "import it first"),
    ("creds seed of another user", "import user -f {F}/mismatch.creds", 1, "not the seed"),
    ("garbage user file", "import user -f {F}/garbage.jwt", 1, "not hold a valid JWT"),
    ("user import: directory", "import user -f {F}", 1, "is a directory"),
    ("a bad .nk among good ones", "import keys -d {F}/badkeys", 1, "bad.nk"),
    ("no .nk files", "import keys -d {F}/emptykeys", 1, "no .nk files"),
    ("keys dir missing", "import keys -d {T}/nope", 1, "not a directory"),
    ("import keys without --dir", "import keys", 2, "--dir"),
    ("delete unknown user", "delete user -a demo nobody", 1, "'nobody' does not exist"),
    ("delete user without name", "delete user -a demo", 2, "name the user"),
    ("delete unknown account", "delete account nope", 1, "'nope' does not exist"),
    ("delete account without name", "delete account", 2, "name the account"),
    ("export into a file", "export keys -d {F}/file.txt", 1, "not a directory"),
    ("export without --dir", "export keys", 2, "--dir"),
    ("validate unknown account", "validate -a nope", 1, "'nope' does not exist"),
    ("validate -a with -A", "validate -a demo -A", 2, "only one"),
    ("validate garbage file", "validate -f {F}/garbage.jwt", 1, "not a valid JWT"),
    ("expirations bad window", "expirations --within bogus", 2, "'--within'"),
    ("select unknown account", "select account nope", 1, "'nope' does not exist"),
    (
        "creds of unknown user",
        "generate creds -a demo -n nobody",
        1,
        "'nobody' in account 'demo' does not",
    ),
    ("list users of unknown account", "list users -a nope", 1, "'nope' does not exist"),
]

# values appended as one argv item (they hold spaces)
TAIL = {"space in publish subject": "a b", "two spaces in sub": "a b c", "empty name": ""}


def _self_signed_account(name: str, exp: int) -> str:
    pair = keys.create_pair(keys.Prefix.ACCOUNT)
    claims = AccountClaims.new(pair.public_key)
    claims.name = name
    claims.expires = exp
    return encode(claims, pair, iat=exp - 100)


def _foreign_creds() -> str:
    account = keys.create_pair(keys.Prefix.ACCOUNT)
    user = keys.create_pair(keys.Prefix.USER)
    claims = UserClaims.new(user.public_key)
    claims.name = "stranger"
    return format_user_creds(encode(claims, account, iat=1_700_000_000), user.seed)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A store (init + user bob) and the input files, made once and copied per case."""
    t = tmp_path_factory.mktemp("bad-input")
    h, f = t / "nsc", t / "files"
    ok("-H", str(h), "init", "-n", "demo")
    ok("-H", str(h), "add", "user", "-a", "demo", "-n", "bob", "--allow-pub", "a.>")
    f.mkdir()
    bob = (h / "demo/accounts/demo/users/bob.jwt").read_text()
    creds = (h / "creds/demo/demo/bob.creds").read_text()
    seed_line = next(line for line in creds.splitlines() if line.startswith("SU"))
    other_user = keys.create_pair(keys.Prefix.USER)
    files = {
        "garbage.jwt": "this is not a JWT\n",
        "user.jwt": bob,
        "demo.jwt": (h / "demo/accounts/demo/demo.jwt").read_text(),
        "expired.jwt": _self_signed_account("old", 1_600_000_000),
        "bad.creds": creds.replace(seed_line, seed_line[:-4] + "AAAA"),
        "mismatch.creds": creds.replace(seed_line, other_user.seed),
        "foreign.creds": _foreign_creds(),
        "file.txt": "a regular file\n",
        "noseed.txt": "no seed in here\n",
        "badkeys/good.nk": keys.create_pair(keys.Prefix.USER).seed,
        "badkeys/bad.nk": "SUnotaseed",
        "emptykeys/readme.txt": "nothing\n",
    }
    for rel, text in files.items():
        (f / rel).parent.mkdir(exist_ok=True)
        (f / rel).write_text(text)
    return {
        "dir": t,
        "other_seed": keys.create_pair(keys.Prefix.ACCOUNT).seed,
        "user_seed": other_user.seed,
        "bad_seed": seed_line[:20] + ("A" if seed_line[20] != "A" else "B") + seed_line[21:],
    }


@pytest.mark.parametrize(("case", "argv", "code", "text"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(
    template: dict[str, Any], tmp_path: Path, case: str, argv: str, code: int, text: str
) -> None:
    work = tmp_path / "w"
    shutil.copytree(template["dir"], work, symlinks=True)
    values = {
        "H": str(work / "nsc"),
        "F": str(work / "files"),
        "T": str(work),
        "other_seed": template["other_seed"],
        "user_seed": template["user_seed"],
        "bad_seed": template["bad_seed"],
    }
    args = [part.format(**values) for part in argv.split()]
    if case in TAIL:
        args.append(TAIL[case])
    if args[0] != "-H":
        args = ["-H", values["H"], *args]
    before = fingerprint(work)
    got, out, err = run(*args)
    assert got == code, f"exit {got}, stdout={out!r} stderr={err!r}"
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line: {err!r}"
    assert err.startswith("nscpy: error: ") and "Traceback" not in err
    assert text in err, err
    assert template["bad_seed"] not in err and template["user_seed"] not in err  # no secrets
    assert out == ""
    assert fingerprint(work) == before
    assert len(CASES) >= 30
