"""Go-style duration strings: parsing (exact nanoseconds), errors worded like Go, formatting."""

from __future__ import annotations

import pytest

from wippy.durations import (
    MILLISECOND,
    NANOSECOND,
    DurationError,
    format_duration,
    parse_duration,
    parse_duration_ns,
    to_seconds,
)


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("0", 0),
        ("-0", 0),
        ("0s", 0),
        ("5s", 5_000_000_000),
        ("30s", 30_000_000_000),
        ("1478s", 1_478_000_000_000),
        ("-5s", -5_000_000_000),
        ("+5s", 5_000_000_000),
        ("1.5s", 1_500_000_000),
        (".5s", 500_000_000),
        ("1.s", 1_000_000_000),
        ("1.004s", 1_004_000_000),
        ("1.000000001s", 1_000_000_001),
        ("100ms", 100_000_000),
        ("500ms", 500_000_000),
        ("10ns", 10),
        ("11us", 11_000),
        ("12\u00b5s", 12_000),
        ("12\u03bcs", 12_000),
        ("13ms", 13_000_000),
        ("14s", 14_000_000_000),
        ("15m", 900_000_000_000),
        ("16h", 57_600_000_000_000),
        ("1h30m", 5_400_000_000_000),
        ("3h30m", 12_600_000_000_000),
        ("10.5s4m", 250_500_000_000),
        ("-2m3.4s", -123_400_000_000),
        ("1h2m3s4ms5us6ns", 3_723_004_005_006),
        ("39h9m14.425s", 140_954_425_000_000),
        ("9223372036854775807ns", (1 << 63) - 1),
        ("-9223372036854775808ns", -(1 << 63)),
    ],
)
def test_parse_matches_go(text: str, ns: int) -> None:
    assert parse_duration_ns(text) == ns
    assert parse_duration(text) == pytest.approx(ns / 1e9)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", 'time: invalid duration ""'),
        ("3", 'time: missing unit in duration "3"'),
        ("-", 'time: invalid duration "-"'),
        ("s", 'time: invalid duration "s"'),
        (".", 'time: invalid duration "."'),
        ("-.", 'time: invalid duration "-."'),
        (".s", 'time: invalid duration ".s"'),
        ("+.s", 'time: invalid duration "+.s"'),
        ("1d", 'time: unknown unit "d" in duration "1d"'),
        ("1.5.5s", 'time: missing unit in duration "1.5.5s"'),
        ("9223372036854775808ns", 'time: invalid duration "9223372036854775808ns"'),
        ("3000000h", 'time: invalid duration "3000000h"'),
    ],
)
def test_parse_errors_use_go_wording(text: str, message: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration_ns(text)
    assert str(info.value) == message


def test_to_seconds_numbers_take_the_given_unit() -> None:
    assert to_seconds(10) == 10.0
    assert to_seconds(1.5) == 1.5
    assert to_seconds("250ms") == 0.25
    assert to_seconds(" 2s ") == 2.0
    assert to_seconds(250, number_unit=MILLISECOND) == 0.25
    assert to_seconds(1_000_000_000, number_unit=NANOSECOND) == pytest.approx(1.0)
    assert to_seconds(None, default=3.0) == 3.0
    for bad in (None, True, float("nan"), [1]):
        with pytest.raises(DurationError):
            to_seconds(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (1e-9, "1ns"),
        (1.1e-6, "1.1\u00b5s"),
        (0.0022, "2.2ms"),
        (0.2, "200ms"),
        (3.3, "3.3s"),
        (10, "10s"),
        (90, "1m30s"),
        (4 * 60 + 5.001, "4m5.001s"),
        (5 * 3600 + 6 * 60 + 7.001, "5h6m7.001s"),
        (3600, "1h0m0s"),
        (-1.5, "-1.5s"),
    ],
)
def test_format_like_go(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_round_trips() -> None:
    for text in ("1h30m0s", "250ms", "1m0.5s", "7\u00b5s"):
        assert format_duration(parse_duration(text)) == text
