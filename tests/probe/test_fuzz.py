"""Bounded property tests (hypothesis) for the parsers and rules this suite hardens.

Random input may only produce the documented error of each parser, never another exception;
the redaction rule hides every mangled seed; the subject rule is exactly the server's.
Longer runs: `make fuzz-stub` (bench/fuzz_cli.py, atheris where it installs).
"""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nscpy import keys
from nscpy.jwt import JWTError, parse_decorated_jwt, parse_decorated_seed
from nscpy.jwt.subject import is_valid_subject, subject_problem
from nscpy.redact import SEED_LIKE_MIN, looks_like_seed, redact_seeds
from nscpy.store.context import Context
from nscpy.store.errors import AmbiguousName, CorruptStore, InvalidName
from nscpy.store.keystore import _check_seed_file
from nscpy.store.names import check_new_name, match_name, nfc
from nscpy.values import (
    InvalidValue,
    parse_at,
    parse_expiry,
    parse_go_duration,
    parse_number,
    parse_time_range,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROLES = [keys.Prefix.OPERATOR, keys.Prefix.ACCOUNT, keys.Prefix.USER]
SUBJECT_CHARS = st.sampled_from(list("ab.*> \t\r\n$_-0"))


@st.composite
def seeds(draw: st.DrawFn) -> str:
    role = draw(st.sampled_from(ROLES))
    raw = draw(st.binary(min_size=32, max_size=32))
    return keys.encode_seed(role, raw)


@st.composite
def mangled(draw: st.DrawFn) -> tuple[str, str]:
    seed = draw(seeds())
    start = draw(st.integers(0, 2))
    end = draw(st.integers(start + 40, len(seed)))
    part = seed[start:end]
    case = draw(st.sampled_from([str.upper, str.lower]))
    extra = draw(st.text(alphabet="ABCQ27", max_size=2))
    return seed, case(part) + extra


@FAST
@given(mangled(), st.text(max_size=20), st.text(max_size=20))
def test_a_mangled_seed_never_survives_redaction(
    pair: tuple[str, str], before: str, after: str
) -> None:
    seed, shown = pair
    text = redact_seeds(f"{before} {shown} {after}")
    for source in (seed, seed.lower()):
        for i in range(len(source) - SEED_LIKE_MIN + 1):
            assert source[i : i + SEED_LIKE_MIN] not in text


@FAST
@given(mangled(), st.text(alphabet="AYZaqz", max_size=6), st.text(alphabet="AYZaqz", max_size=6))
def test_letters_glued_to_a_seed_do_not_hide_it(
    pair: tuple[str, str], before: str, after: str
) -> None:
    # found by bench/fuzz_cli.py: 'YYY' + a lower-cased seed made one mixed-case run
    seed, shown = pair
    text = redact_seeds(before + shown + after)
    for source in (seed, seed.lower()):
        for i in range(len(source) - SEED_LIKE_MIN + 1):
            assert source[i : i + SEED_LIKE_MIN] not in text


@FAST
@given(st.text(max_size=200))
def test_redaction_is_idempotent_and_leaves_no_seed_like_run(text: str) -> None:
    once = redact_seeds(text)
    assert redact_seeds(once) == once
    assert not looks_like_seed(once)


@FAST
@given(st.lists(st.sampled_from(ROLES), min_size=1, max_size=3))
def test_public_keys_survive_redaction(roles: list[keys.Prefix]) -> None:
    publics = [keys.create_pair(r).public_key for r in roles]
    text = "signed by " + ", ".join(publics)
    assert redact_seeds(text) == text


@FAST
@given(st.text(alphabet=SUBJECT_CHARS, max_size=12))
def test_subject_problem_is_the_servers_rule(subject: str) -> None:
    assert (subject_problem(subject) is None) == is_valid_subject(subject)


@FAST
@given(st.text(max_size=30), st.lists(st.text(max_size=10), max_size=5))
def test_check_new_name_only_refuses_with_invalid_name(name: str, existing: list[str]) -> None:
    try:
        stored = check_new_name(name, "user", existing, ("nsc.json",))
    except InvalidName:
        return
    assert stored == nfc(stored)
    assert not stored.startswith(".")
    assert all(unicodedata.category(c) != "Cf" for c in stored)
    # the decomposed spelling of an accepted name is the same name: it is stored as the same
    # file name (so the store reports "already exists"), or refused
    nfd = unicodedata.normalize("NFD", stored)
    try:
        assert check_new_name(nfd, "user", [stored]) == stored
    except InvalidName:
        pass


@FAST
@given(st.text(max_size=8), st.lists(st.text(max_size=8), max_size=6, unique=True))
def test_match_name_is_exact_or_nfc_and_never_guesses(value: str, names: list[str]) -> None:
    try:
        found = match_name(value, names, "user")
    except AmbiguousName:
        assert value not in names
        assert sum(nfc(n) == nfc(value) for n in names) > 1
        return
    if found is None:
        assert all(nfc(n) != nfc(value) for n in names)
    else:
        assert found in names and nfc(found) == nfc(value)
        if value in names:
            assert found == value


@FAST
@given(st.text(max_size=40))
def test_value_parsers_raise_only_invalid_value(text: str) -> None:
    for parse in (
        parse_number,
        parse_go_duration,
        parse_time_range,
        lambda t: parse_expiry(t, 1_700_000_000),
        lambda t: parse_at(t, 1_700_000_000),
    ):
        try:
            parse(text)
        except InvalidValue:
            pass


@FAST
@given(st.text(max_size=300))
def test_creds_parsers_raise_only_jwt_errors(text: str) -> None:
    for parse in (parse_decorated_jwt, parse_decorated_seed):
        try:
            parse(text)
        except JWTError:
            pass


@FAST
@given(st.one_of(st.text(max_size=80), mangled().map(lambda p: p[1])))
def test_seed_file_check_raises_only_corrupt_store_and_never_shows_it(text: str) -> None:
    public = keys.create_pair(keys.Prefix.ACCOUNT).public_key
    try:
        _check_seed_file(public, text, "x.nk")
    except CorruptStore as exc:
        stripped = text.strip()
        assume(len(stripped) >= SEED_LIKE_MIN)
        assert stripped not in str(exc)


@FAST
@given(st.text(max_size=100))
def test_nsc_json_parser_raises_only_corrupt_store(text: str) -> None:
    try:
        Context.from_json(text)
    except CorruptStore:
        pass


@FAST
@given(mangled())
def test_load_key_value_errors_never_hold_the_seed(pair: tuple[str, str]) -> None:
    # the action itself (what scripts call) keeps the seed out, not only the CLI's last line
    from pathlib import Path

    from nscpy.actions.signers import load_key_value
    from nscpy.errors import NscError
    from nscpy.store.keystore import KeyStore
    from nscpy.store.layout import StorePaths

    seed, value = pair
    assume(value.strip() != seed)
    store = KeyStore(StorePaths(Path("/nonexistent"), Path("/nonexistent"), Path("/nonexistent")))
    try:
        load_key_value(value, store)
    except NscError as exc:
        message = str(exc)
        for source in (seed, seed.lower()):
            for i in range(len(source) - SEED_LIKE_MIN + 1):
                assert source[i : i + SEED_LIKE_MIN] not in message
