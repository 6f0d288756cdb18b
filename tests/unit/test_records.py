"""Text forms of usage records (byteconvert): both forms parse back to what they print."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmsquota.errors import NmsquotaError
from nmsquota.ledger import Sample
from nmsquota.records import LAST_EPOCH, RecordError, TextForm, parse_lines

ADELAIDE = ZoneInfo("Australia/Adelaide")
UTC = ZoneInfo("UTC")

samples = st.builds(
    Sample,
    st.from_regex(r"[a-z0-9][a-z0-9._@+-]{0,15}", fullmatch=True),
    st.integers(min_value=0, max_value=4_102_444_800),  # until 2100
    st.integers(min_value=0, max_value=10**15),
    st.integers(min_value=0, max_value=10**12),
)


def test_the_papers_display_line_is_read_in_its_time_zone() -> None:
    form = TextForm("display", ADELAIDE)
    sample = form.parse("199 Fri Aug 17 00:07:06 2001 123 456")
    assert sample == Sample("199", 997_972_626, 123, 456)
    assert TextForm("numeric", ADELAIDE).format(sample) == "199 997972626 123 456"


def test_single_digit_days_are_padded_as_ctime_does() -> None:
    assert TextForm("display", UTC).format(Sample("a", 997_000_000, 1, 2)) == (
        "a Sun Aug  5 08:26:40 2001 1 2"
    )


@given(samples, st.sampled_from(["numeric", "display"]))
def test_format_then_parse_gives_the_sample_back(sample: Sample, form: str) -> None:
    text_form = TextForm(form, UTC)  # type: ignore[arg-type]
    line = text_form.format(sample)
    assert text_form.parse(line) == sample
    assert text_form.format(text_form.parse(line)) == line


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("davidn Sat Aug 17 00:07:06 2001 1 2", "Aug 17 2001 is a Fri"),
        ("davidn Fri Aug 32 00:07:06 2001 1 2", "not a real time"),
        ("davidn Fri Aug 17 00:07:06 2001 -1 2", "expected SUBSCRIBER Www Mmm dd"),
        ("davidn 997972561 12x 0", "expected SUBSCRIBER EPOCH IN OUT"),
    ],
)
def test_bad_lines_say_what_was_expected(line: str, expected: str) -> None:
    with pytest.raises(RecordError, match=expected):
        list(parse_lines([line], None, UTC, "usage.txt"))


def test_a_bad_line_is_reported_with_its_number() -> None:
    with pytest.raises(RecordError) as error:
        list(parse_lines(["a 1 2 3\n", "\n", "a 2 x 3\n"], None, UTC, "usage.txt"))
    assert str(error.value).startswith("usage.txt:3: expected SUBSCRIBER EPOCH IN OUT")


def test_a_time_the_dst_change_repeats_is_refused_not_guessed() -> None:
    form = TextForm("display", ADELAIDE)
    # 2024-04-07 02:15 happened twice in Adelaide (03:00 -> 02:00).
    with pytest.raises(RecordError, match="DST change makes ambiguous"):
        form.parse("a Sun Apr  7 02:15:00 2024 1 2")
    assert form.parse("a Sun Apr  7 03:15:00 2024 1 2").time == 1_712_425_500


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("davidn 99999999999999999999 1 2", "expected an epoch from 0 to 253402128000"),
        ("davidn -5 1 2", "expected an epoch from 0 to 253402128000"),
        ("davidn Mon Jan  1 00:00:00 0001 1 2", "expected an epoch from 0 to 253402128000"),
        ("davidn Fri Dec 31 23:59:59 9999 1 2", "expected an epoch from 0 to 253402128000"),
        ("davidn 997972561 99999999999999999999 2", "byte counts of at most 9223372036854775807"),
    ],
)
def test_times_and_counts_the_ledger_cannot_hold_are_refused_by_line(
    line: str, expected: str
) -> None:
    with pytest.raises(RecordError, match=expected) as error:
        list(parse_lines(["# usage\n", line], None, UTC, "usage.txt"))
    assert str(error.value).startswith("usage.txt:2: ")


def test_the_last_epoch_is_shown_with_a_four_digit_year_in_the_furthest_time_zone() -> None:
    sample = Sample("a", LAST_EPOCH, 1, 2)
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):
        form = TextForm("display", ZoneInfo(zone))
        assert form.parse(form.format(sample)) == sample


def test_a_time_past_year_9999_in_the_display_form_is_an_error_not_a_crash() -> None:
    with pytest.raises(NmsquotaError, match="use --numeric"):
        TextForm("display", ZoneInfo("Pacific/Kiritimati")).format(Sample("a", 253402268399, 1, 2))
