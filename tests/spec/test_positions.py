"""The position pass: every key path tomllib parses has a line and column that point at it."""

from __future__ import annotations

import sys

import tomli_w
from hypothesis import given, settings
from hypothesis import strategies as st

from nscpy.spec.positions import scan_positions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

keys = st.one_of(
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=6),
)
scalars = st.one_of(
    st.integers(-(2**40), 2**40),
    st.booleans(),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(keys, inner, max_size=3),
    ),
    max_leaves=12,
)
documents = st.dictionaries(keys, values, max_size=5)


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


@settings(max_examples=300, deadline=None)
@given(documents, st.booleans())
def test_every_parsed_path_has_its_own_position(doc, multiline):
    text = tomli_w.dumps(doc, multiline_strings=multiline)
    parsed = tomllib.loads(text)
    positions = scan_positions(text, "t.toml")
    lines = text.split("\n")  # TOML lines end at \n only (not at U+0085 etc.)
    for path in _paths(parsed):
        assert path in positions.table, (path, text)
        pos = positions.table[path]
        assert 1 <= pos.line <= len(lines)
        if isinstance(path[-1], str):
            # the recorded column starts the key (bare or quoted) on that line
            rest = lines[pos.line - 1][pos.col - 1 :]
            assert rest.startswith(path[-1]) or rest[:1] in "\"'", (path, rest, text)


def test_arrays_of_tables_and_dotted_keys():
    text = (
        "[[a.b]]\nx = 1\n[[a.b]]\ny.z = 2\n[a.b.c]\nw = [\n  1,\n  { q = 3 },\n]\n"
        "\"quoted key\" = 'v'\n"
    )
    p = scan_positions(text, "f").table
    assert p[("a", "b", 0, "x")][1:] == (2, 1)
    assert p[("a", "b", 1, "y", "z")][1:] == (4, 3)
    assert p[("a", "b", 1, "c", "w", 1, "q")][1:] == (8, 5)
    assert p[("a", "b", 1, "c", "quoted key")][1:] == (10, 1)
