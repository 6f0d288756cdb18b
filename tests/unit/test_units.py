"""The unit rule (nmsquota.units' docstring, the README and the example file state it):
NUMBER [PREFIX] UNIT [ps|/s], prefixes k M G T P (x1000) and Ki Mi Gi Ti Pi (x1024) in any
case, B = bytes and b or bit = bits, per second optional and only for rates. A size in bits is
refused with the spelling meant; a rate in bytes is converted to bits per second."""

from __future__ import annotations

import itertools
import re

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

# The rule's table, written out here rather than taken from the module under test.
FACTORS = {
    "": 1,
    "k": 1000,
    "m": 1000**2,
    "g": 1000**3,
    "t": 1000**4,
    "p": 1000**5,
    "ki": 1024,
    "mi": 1024**2,
    "gi": 1024**3,
    "ti": 1024**4,
    "pi": 1024**5,
}
BYTES = ("B",)
BITS = ("b", "bit", "Bit", "BIT", "bIt")
PER_SECOND = ("", "ps", "PS", "Ps", "/s", "/S")


def spellings(prefix: str) -> set[str]:
    """Every case of a prefix: "ki" -> ki, kI, Ki, KI."""
    cases = ((c.lower(), c.upper()) for c in prefix)
    return {"".join(chars) for chars in itertools.product(*cases)}


PREFIXES = sorted((spelled, FACTORS[prefix]) for prefix in FACTORS for spelled in spellings(prefix))


def written(number: str, prefix: str, unit: str, per: str) -> str:
    return f"{number}{prefix}{unit}{per}"


def suggestion(error: UnitError) -> str:
    """The spelling an error message proposes ("... write 20MB ...")."""
    found = re.search(r"write (\S+)", str(error))
    assert found, f"no suggestion in {error}"
    return found[1]


# Sizes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "factor"), PREFIXES)
def test_a_size_in_bytes_is_its_number_times_its_prefix_in_any_case(
    prefix: str, factor: int
) -> None:
    assert parse_size(written("7", prefix, "B", "")) == 7 * factor
    assert parse_size(written("7 ", prefix, "B", "")) == 7 * factor  # a space is allowed


@pytest.mark.parametrize(("prefix", "factor"), PREFIXES)
@pytest.mark.parametrize("unit", BITS)
def test_a_size_in_bits_is_refused_with_a_spelling_in_bytes(
    prefix: str, factor: int, unit: str
) -> None:
    with pytest.raises(UnitError, match="is in bits") as error:
        parse_size(written("16", prefix, unit, ""))
    meant = parse_size(suggestion(error.value))
    # "16Mb" is most likely 16 megabytes with the wrong case; "16Mbit" meant bits.
    assert meant == (16 * factor if unit == "b" else 16 * factor // 8)


@pytest.mark.parametrize(("prefix", "factor"), PREFIXES)
@pytest.mark.parametrize("per", [p for p in PER_SECOND if p])
@pytest.mark.parametrize("unit", [*BYTES, *BITS])
def test_a_size_per_second_is_refused_as_a_rate(
    prefix: str, factor: int, per: str, unit: str
) -> None:
    with pytest.raises(UnitError) as error:
        parse_size(written("5", prefix, unit, per))
    if unit == "B":
        assert "is a rate" in str(error.value)
        assert parse_size(suggestion(error.value)) == 5 * factor


@pytest.mark.parametrize(("prefix", "factor"), [p for p in PREFIXES if p[0]])
def test_a_size_with_a_prefix_and_no_unit_is_refused_with_the_bytes_spelling(
    prefix: str, factor: int
) -> None:
    with pytest.raises(UnitError, match="has no unit") as error:
        parse_size(f"63{prefix}")
    assert parse_size(suggestion(error.value)) == 63 * factor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("63MB", 63_000_000),
        ("63mB", 63_000_000),  # m is mega: there is no millibyte
        ("100GiB", 100 * 2**30),
        ("100giB", 100 * 2**30),
        ("10KB", 10_000),
        ("10kB", 10_000),
        ("10 KiB", 10_240),
        ("1.5GB", 1_500_000_000),
        ("500", 500),
        ("0B", 0),
        (4096, 4096),
    ],
)
def test_sizes_parse_to_bytes(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


def test_20mb_as_a_size_suggests_20_megabytes_not_millibytes() -> None:
    with pytest.raises(UnitError) as error:
        parse_size("20mb")
    assert str(error.value) == (
        "'20mb' is in bits (b = bit, B = byte); a size is in bytes: write 20MB for "
        "20 megabytes (20 megabits would be 2.5MB)"
    )


@pytest.mark.parametrize(
    "text", ["63Mb", "10kb", "1.5B", "-3MB", "MB", "63 XB", "", "63MBytes", True, -1]
)
def test_bad_sizes_are_rejected_with_the_expectation(text: str | int) -> None:
    with pytest.raises(UnitError):
        parse_size(text)


# Rates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("prefix", "factor"), PREFIXES)
@pytest.mark.parametrize("per", PER_SECOND)
@pytest.mark.parametrize("unit", BITS)
def test_a_rate_in_bits_is_bits_per_second_with_or_without_per_second(
    prefix: str, factor: int, per: str, unit: str
) -> None:
    assert parse_rate(written("3", prefix, unit, per)) == 3 * factor


@pytest.mark.parametrize(("prefix", "factor"), PREFIXES)
@pytest.mark.parametrize("per", PER_SECOND)
def test_a_rate_in_bytes_is_converted_to_bits_per_second(
    prefix: str, factor: int, per: str
) -> None:
    assert parse_rate(written("3", prefix, "B", per)) == 3 * factor * 8


@pytest.mark.parametrize(("prefix", "factor"), PREFIXES)
@pytest.mark.parametrize("per", PER_SECOND)
def test_a_rate_without_a_unit_is_refused_with_a_spelling_in_bits(
    prefix: str, factor: int, per: str
) -> None:
    with pytest.raises(UnitError, match="has no unit") as error:
        parse_rate(written("3", prefix, "", per))
    assert parse_rate(suggestion(error.value)) == 3 * factor


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3kbit", 3_000),
        ("64kbit", 64_000),
        ("10Mbit", 10_000_000),
        ("20mb", 20_000_000),  # megabits: m is mega, b is bit
        ("20Mbps", 20_000_000),
        ("256kBps", 2_048_000),  # kilobytes per second, not kilobits
        ("256KB/s", 2_048_000),
        ("1.1kbit", 1_100),
        ("2Gbit", 2 * 10**9),
        ("1 Gbit/s", 10**9),
        ("1Mibit", 2**20),
        (3000, 3_000),  # a TOML integer: bits per second
    ],
)
def test_rates_parse_to_bits_per_second(text: str | int, expected: int) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["0kbit", "fast", "3 kbits", "3000", "0.1B/s", "kbit", -5])
def test_bad_rates_are_rejected(text: str | int) -> None:
    with pytest.raises(UnitError):
        parse_rate(text)


UNITS = st.sampled_from([*BYTES, *BITS, ""])


@given(
    number=st.integers(min_value=1, max_value=999_999),
    prefix=st.sampled_from(sorted(FACTORS)),
    upper=st.lists(st.booleans(), min_size=2, max_size=2),
    unit=UNITS,
    per=st.sampled_from(PER_SECOND),
    space=st.sampled_from(["", " "]),
)
def test_every_spelling_reads_by_the_one_rule(
    number: int, prefix: str, upper: list[bool], unit: str, per: str, space: str
) -> None:
    cased = "".join(c.upper() if up else c for c, up in zip(prefix, upper, strict=False))
    text = f"{number}{space}{cased}{unit}{per}"
    bits_per_unit = {"B": 8, "": None}.get(unit, 1)
    amount = number * FACTORS[prefix]
    if bits_per_unit is None:
        with pytest.raises(UnitError, match="has no unit"):
            parse_rate(text)
    else:
        assert parse_rate(text) == amount * bits_per_unit
    if unit == "B" and not per:
        assert parse_size(text) == amount
    elif unit == "" and not per and not prefix:
        assert parse_size(text) == amount  # a bare number is bytes
    else:
        with pytest.raises(UnitError):
            parse_size(text)


# Durations ------------------------------------------------------------------------------------


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


@pytest.mark.parametrize("bare", [7, "7", " 7 "])
def test_a_bare_number_is_not_a_duration_where_seconds_are_not_assumed(bare: str | int) -> None:
    with pytest.raises(UnitError) as error:
        parse_duration(bare, bare_seconds=False)
    assert "has no unit: write 7d, 7h or 7m" in str(error.value)
    assert parse_duration("7d", bare_seconds=False) == 604_800


@given(st.integers(min_value=0, max_value=10**9))
def test_formatted_durations_parse_back(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.integers(min_value=1, max_value=10**11))
def test_formatted_rates_parse_back(bits: int) -> None:
    assert parse_rate(format_rate(bits)) == bits
