import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmsquota.units import (
    UnitError,
    format_duration,
    format_rate,
    parse_duration,
    parse_rate,
    parse_size,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("63MB", 63_000_000),
        ("100GiB", 100 * 2**30),
        ("10KB", 10_000),
        ("10 KiB", 10_240),
        ("1.5GB", 1_500_000_000),
        ("500", 500),
        ("0B", 0),
        (4096, 4096),
    ],
)
def test_sizes_parse_to_bytes(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["63Mb", "10kb", "1.5B", "-3MB", "MB", "63 XB", "", True, -1])
def test_bad_sizes_are_rejected_with_the_expectation(text: str | int) -> None:
    with pytest.raises(UnitError):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3kbit", 3_000),
        ("64kbit", 64_000),
        ("10Mbit", 10_000_000),
        ("1.1kbit", 1_100),
        ("2Gbit", 2 * 10**9),
    ],
)
def test_rates_parse_to_bits_per_second(text: str, expected: int) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["3kB", "0kbit", "fast", "3 kbits"])
def test_bad_rates_are_rejected(text: str) -> None:
    with pytest.raises(UnitError):
        parse_rate(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7d", 604_800), ("5m", 300), ("1h30m", 5_400), ("2w", 1_209_600), ("300", 300), ("10s", 10)],
)
def test_durations_parse_to_seconds(text: str, expected: int) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["7 days", "d7", "1.5h", "", "5x"])
def test_bad_durations_are_rejected(text: str) -> None:
    with pytest.raises(UnitError):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10**9))
def test_formatted_durations_parse_back(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.integers(min_value=1, max_value=10**11))
def test_formatted_rates_parse_back(bits: int) -> None:
    assert parse_rate(format_rate(bits)) == bits
