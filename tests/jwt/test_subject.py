"""Subject rules: Go's vectors for Validate/HasWildCards/IsContainedIn, server rules, properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nscpy.jwt.subject import (
    has_wildcards,
    is_contained_in,
    is_literal,
    is_valid_literal_subject,
    is_valid_publish_subject,
    is_valid_subject,
    renaming_to_subject,
    subject_matches,
    subject_subset,
    subjects_collide,
    validate_renaming_subject,
    validate_subject,
)
from nscpy.jwt.validation import ValidationResults

FAST = settings(max_examples=200, deadline=None)


def test_subject_vectors(vectors: dict[str, Any]) -> None:
    for case in vectors["subject_cases"]:
        results = ValidationResults()
        validate_subject(case["subject"], results)
        assert results.errors() == case["jwt_Subject_Validate_errors"], case
        assert has_wildcards(case["subject"]) is case["jwt_HasWildCards"], case


def test_containment_vectors(vectors: dict[str, Any]) -> None:
    for case in vectors["subject_containment_cases"]:
        got = is_contained_in(case["subject"], case["other"])
        assert got is case["jwt_IsContainedIn"], case


@pytest.mark.parametrize(
    ("subject", "valid"),
    [
        ("foo", True),
        ("foo.bar", True),
        (">", True),
        ("*", True),
        ("foo.*.bar", True),
        ("foo.>", True),
        ("foo>", True),
        ("a*b", True),
        ("foo.>.bar", False),
        ("", False),
        ("foo..bar", False),
        (".foo", False),
        ("foo.", False),
        ("foo bar", False),
        ("foo\tbar", False),
        ("foo.\n", False),
        ("\f", False),
    ],
)
def test_server_subject_rules(subject: str, valid: bool) -> None:
    assert is_valid_subject(subject) is valid


def test_publish_and_literal_rules() -> None:
    assert is_valid_publish_subject("foo.bar")
    assert not is_valid_publish_subject("foo.*")
    assert not is_valid_publish_subject("foo.>")
    assert is_valid_literal_subject("foo.bar*")
    assert not is_valid_literal_subject("foo..bar")
    assert is_literal("foo>") and not is_literal("a.*.c")


def test_go_containment_quirk_kept() -> None:
    assert is_contained_in("*.*.>", "*.>") and is_contained_in("*.>", "*.*")
    assert not is_contained_in("*.*.>", "*.*")


def test_matching_examples() -> None:
    assert subject_matches("foo.*", "foo.bar")
    assert not subject_matches("foo.*", "foo.bar.baz")
    assert subject_matches("foo.>", "foo.bar.baz")
    assert not subject_matches("foo.>", "foo")
    assert subject_matches(">", "x")
    assert not subject_matches("foo.bar", "foo.baz")
    assert subject_subset("foo.bar", "foo.*")
    assert subject_subset("foo.*", "foo.>")
    assert not subject_subset("foo.>", "foo.*")
    assert not subject_subset("foo.*", "foo.bar")


def test_renaming_subject() -> None:
    ok = ValidationResults()
    validate_renaming_subject("in.$1", "events.*", ok)
    assert ok.is_empty()
    assert renaming_to_subject("in.$1.$2.x") == "in.*.*.x"
    bad = ValidationResults()
    validate_renaming_subject("in.$2", "events.*", bad)
    assert bad.errors() == [
        'Reference $2 in "in.$2" reference * in "events.*" that do not exist',
        "subject does not contain enough * or reference wildcards $[0-9]",
    ]
    fwc = ValidationResults()
    validate_renaming_subject("in", "events.>", fwc)
    assert fwc.errors() == ["both, renaming subject and subject, need to end or not end in >"]


_token = st.sampled_from(["a", "b", "foo", "bar", "x1", "ü"])
_literal = st.lists(_token, min_size=1, max_size=5).map(".".join)


@st.composite
def _pattern(draw: st.DrawFn) -> str:
    tokens = draw(st.lists(st.one_of(_token, st.just("*")), min_size=1, max_size=5))
    if draw(st.booleans()):
        tokens.append(">")
    return ".".join(tokens)


@FAST
@given(_literal)
def test_literal_matches_itself(subject: str) -> None:
    assert subject_matches(subject, subject)
    assert is_contained_in(subject, subject)
    assert subject_subset(subject, subject)
    assert is_valid_publish_subject(subject)


@FAST
@given(_literal, _literal)
def test_fwc_contains_longer_subjects(prefix: str, rest: str) -> None:
    longer = f"{prefix}.{rest}"
    assert subject_matches(f"{prefix}.>", longer)
    assert is_contained_in(longer, f"{prefix}.>")
    assert not subject_matches(f"{prefix}.>", prefix)


@FAST
@given(_pattern(), _pattern(), _pattern())
def test_containment_is_transitive(a: str, b: str, c: str) -> None:
    # Go's IsContainedIn lets '*' match a literal '>' token, which breaks transitivity
    # ('*.*.>' in '*.>' in '*.*'); it holds whenever no '>' has to meet a '*'.
    if ">" not in b and is_contained_in(a, b) and is_contained_in(b, c):
        assert is_contained_in(a, c)
    if subject_subset(a, b) and subject_subset(b, c):
        assert subject_subset(a, c)


@FAST
@given(_pattern(), _pattern(), _literal)
def test_subset_agrees_with_matching(a: str, b: str, literal: str) -> None:
    # whatever a matches, a superset b must match too
    if subject_subset(a, b) and subject_matches(a, literal):
        assert subject_matches(b, literal)
    assert is_valid_subject(a)


@FAST
@given(st.text(max_size=20))
def test_validate_never_raises(text: str) -> None:
    results = ValidationResults()
    validate_subject(text, results)
    is_valid_subject(text)
    has_wildcards(text)
    is_contained_in(text, "foo.>")
    subject_matches(text, "foo")
    assert results.is_empty() == (
        text != "" and " " not in text and text[0] != "." and text[-1] != "." and ".." not in text
    )


_TOKENS = st.sampled_from(["a", "b", "c"])


def _pattern_over(literal: list[str], data: st.DataObject) -> str:
    """A pattern that matches `literal`: some tokens become '*', maybe a '>' tail."""
    tokens = [t if not data.draw(st.booleans()) else "*" for t in literal]
    cut = data.draw(st.integers(0, len(tokens)))
    if cut < len(tokens):
        tokens = tokens[:cut] + [">"]
    return ".".join(tokens)


@given(st.lists(_TOKENS, min_size=1, max_size=5), st.data())
def test_subjects_collide_when_a_literal_matches_both(literal: list[str], data) -> None:
    first, second = _pattern_over(literal, data), _pattern_over(literal, data)
    subject = ".".join(literal)
    assert subject_matches(first, subject) and subject_matches(second, subject)
    assert subjects_collide(first, second) and subjects_collide(second, first)


@given(st.lists(_TOKENS, min_size=1, max_size=4), st.lists(_TOKENS, min_size=1, max_size=4))
def test_literal_subjects_collide_only_when_equal(a: list[str], b: list[str]) -> None:
    assert subjects_collide(".".join(a), ".".join(b)) == (a == b)


def _all_literals(max_len: int) -> list[str]:
    out: list[str] = []
    layer = [[t] for t in ("a", "b", "z")]
    for _ in range(max_len):
        out += [".".join(tokens) for tokens in layer]
        layer = [tokens + [t] for tokens in layer for t in ("a", "b", "z")]
    return out


_LITERALS = _all_literals(5)
_PATTERN = st.lists(st.sampled_from(["a", "b", "*"]), min_size=1, max_size=4).flatmap(
    lambda tokens: st.sampled_from([".".join(tokens), ".".join([*tokens[:-1], ">"])])
)


@FAST
@given(_PATTERN, _PATTERN)
def test_subjects_collide_exactly_when_some_literal_matches_both(a: str, b: str) -> None:
    witness = any(subject_matches(a, s) and subject_matches(b, s) for s in _LITERALS)
    assert subjects_collide(a, b) == witness
