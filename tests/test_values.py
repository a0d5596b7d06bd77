"""The flag value parsers: nsc's syntaxes, and clear errors for anything else."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nscpy.values import (
    InvalidValue,
    add_relative,
    format_go_duration,
    parse_at,
    parse_expiry,
    parse_go_duration,
    parse_number,
    parse_time_range,
)

NOW = 1_767_225_600  # 2026-01-01T00:00:00Z


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("2026-03-04", 1_772_582_400),
        ("2026-03-04 05:06:07 UTC", 1_772_582_400 + 5 * 3600 + 6 * 60 + 7),
        ("30m", NOW + 1800),
        ("2h", NOW + 7200),
        ("1d", NOW + 86400),
        ("-1d", NOW - 86400),
        ("2w", NOW + 14 * 86400),
        ("1M", NOW + 31 * 86400),
        ("1y", NOW + 365 * 86400),
    ],
)
def test_parse_expiry(text: str, expected: int) -> None:
    assert parse_expiry(text, NOW) == expected


@pytest.mark.parametrize("text", ["1.5d", "tomorrow", "2026-13-01", "5x", "1 d", "d"])
def test_parse_expiry_rejects(text: str) -> None:
    with pytest.raises(InvalidValue, match="not a valid"):
        parse_expiry(text, NOW)


def test_month_overflow_follows_go_adddate() -> None:
    jan31 = 1_769_817_600  # 2026-01-31T00:00:00Z; Go: +1 month = 2026-03-03
    assert add_relative(jan31, 1, "M") == 1_772_496_000


def test_parse_at() -> None:
    assert parse_at("0", NOW) == NOW
    assert parse_at("1700000000", NOW) == 1_700_000_000
    assert parse_at("2026-01-01T00:00:10Z", NOW) == NOW + 10
    with pytest.raises(InvalidValue, match="time zone"):
        parse_at("2026-01-01T00:00:10", NOW)
    with pytest.raises(InvalidValue):
        parse_at("yesterday", NOW)


@pytest.mark.parametrize(
    ("text", "ns"),
    [("5s", 5 * 10**9), ("1m30s", 90 * 10**9), ("250ms", 250 * 10**6), ("1.5h", 5400 * 10**9)],
)
def test_go_duration(text: str, ns: int) -> None:
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize("text", ["", "5", "5 s", "s", "1d", "1m30"])
def test_go_duration_rejects(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_go_duration(text)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**15))
def test_duration_format_round_trip(ns: int) -> None:
    assert abs(parse_go_duration(format_go_duration(ns)) - ns) <= max(1, ns // 10**5)


@pytest.mark.parametrize(
    ("text", "value"),
    [("-1", -1), ("0", 0), ("512", 512), ("1k", 1000), ("1KiB", 1024), ("10GB", 10 * 1000**3)],
)
def test_parse_number(text: str, value: int) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["", "ten", "1.5k", "-2", "5 parsecs", "-1k", "99999999999P"])
def test_parse_number_rejects(text: str) -> None:
    with pytest.raises(InvalidValue):
        parse_number(text)


def test_time_range() -> None:
    assert parse_time_range("22:00:00-02:00:00") == ("22:00:00", "02:00:00")
    with pytest.raises(InvalidValue, match="HH:MM:SS"):
        parse_time_range("25:00:00-01:00:00")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_garbage_only_raises_invalid_value(text: str) -> None:
    for parse in (
        lambda t: parse_expiry(t, NOW),
        lambda t: parse_at(t, NOW),
        parse_go_duration,
        parse_number,
        parse_time_range,
    ):
        try:
            parse(text)
        except InvalidValue:
            pass
