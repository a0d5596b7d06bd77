"""Coverage-guided fuzzing (atheris) of the parsers and rules the CLI hardening relies on.

Not part of CI: `make fuzz-stub` installs atheris when it can and runs each target for a bounded
time. The bounded, always-on versions are the hypothesis tests in tests/probe/test_fuzz.py.

    python bench/fuzz_cli.py TARGET [libFuzzer flags, e.g. -max_total_time=60 -runs=100000]

Targets: redact (no seed survives a message), subject (our rule == nats-server's), names
(new-name and lookup rules), values (flag value parsers), jwt (token and creds decoding).
Each target fails (libFuzzer reports a crash with the input) on any exception other than the
parser's documented error, or on a broken property.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import atheris

with atheris.instrument_imports():
    from nscpy import keys
    from nscpy.jwt import JWTError, decode, parse_decorated_jwt, parse_decorated_seed
    from nscpy.jwt.subject import is_valid_subject, subject_problem
    from nscpy.redact import SEED_LIKE_MIN, looks_like_seed, redact_seeds
    from nscpy.store.errors import AmbiguousName, InvalidName
    from nscpy.store.names import check_new_name, match_name, nfc
    from nscpy.values import InvalidValue, parse_at, parse_go_duration, parse_number

_ROLES = [keys.Prefix.OPERATOR, keys.Prefix.ACCOUNT, keys.Prefix.USER]


def redact(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    seed = keys.encode_seed(_ROLES[fdp.ConsumeIntInRange(0, 2)], fdp.ConsumeBytes(32).ljust(32))
    start = fdp.ConsumeIntInRange(0, 2)
    end = fdp.ConsumeIntInRange(start + 40, len(seed))
    part = seed[start:end]
    if fdp.ConsumeBool():
        part = part.lower()
    text = fdp.ConsumeUnicodeNoSurrogates(40) + part + fdp.ConsumeUnicodeNoSurrogates(40)
    out = redact_seeds(text)
    for source in (seed, seed.lower()):
        for i in range(len(source) - SEED_LIKE_MIN + 1):
            if source[i : i + SEED_LIKE_MIN] in out:
                raise AssertionError(f"seed fragment survived: {out!r}")
    if looks_like_seed(out):
        raise AssertionError("redacted text still looks like a seed")


def subject(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(64)
    if (subject_problem(text) is None) != is_valid_subject(text):
        raise AssertionError(f"rules disagree on {text!r}")


def names(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    name = fdp.ConsumeUnicodeNoSurrogates(32)
    stored = [fdp.ConsumeUnicodeNoSurrogates(8) for _ in range(fdp.ConsumeIntInRange(0, 4))]
    try:
        new = check_new_name(name, "user", stored)
        if new != nfc(new):
            raise AssertionError("a new name is stored un-normalised")
    except InvalidName:
        pass
    try:
        found = match_name(name, sorted(set(stored)), "user")
        if found is not None and nfc(found) != nfc(name):
            raise AssertionError(f"{name!r} matched {found!r}")
    except AmbiguousName:
        pass


def values(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(48)
    for parse in (parse_number, parse_go_duration, lambda t: parse_at(t, 1_700_000_000)):
        try:
            parse(text)
        except InvalidValue:
            pass


def jwt(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(512)
    for parse in (decode, parse_decorated_jwt, parse_decorated_seed):
        try:
            parse(text)
        except JWTError:
            pass


TARGETS: dict[str, Callable[[bytes], None]] = {
    "redact": redact,
    "subject": subject,
    "names": names,
    "values": values,
    "jwt": jwt,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer flags]")
    target = TARGETS[sys.argv.pop(1)]
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
