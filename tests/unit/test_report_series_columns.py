"""A subscriber's cap window read from their samples as columns (SampleColumns, how a
site reads 5,000 subscribers' weeks): the same series, to the byte, as from the samples
one by one, in any order."""

from __future__ import annotations

import pytest

from nmsquota.report.series import pace, thinned, window_usage
from nmsquota.usage import FreeHours, Sample, SampleColumns, Tally

DAY = 86400
NOW = 1_806_321_600  # Mon 29 Mar 2027 12:00 UTC, the day after summer time began in Paris
NIGHT = Tally(7 * DAY, FreeHours(0, 7 * 60, "Europe/Paris"))
WEEK = Tally(7 * DAY)
SAMPLES = [Sample("a", t, t % 977, t % 13) for t in range(NOW - 9 * DAY, NOW + DAY, 300)]
"""Five-minute samples from before the window to after "now" (neither counts)."""


def columns_of(samples: list[Sample]) -> SampleColumns:
    found = SampleColumns(samples[0].subscriber)
    for s in samples:
        found.append(s.time, s.bytes_in, s.bytes_out)
    return found


@pytest.mark.parametrize("tally", [NIGHT, WEEK], ids=["free-hours", "no-free-hours"])
@pytest.mark.parametrize("direction", ["download", "upload", "both"])
def test_columns_give_the_series_their_samples_give(tally: Tally, direction: str) -> None:
    usage = window_usage(columns_of(SAMPLES), tally, direction, NOW)  # type: ignore[arg-type]
    shuffled = SAMPLES[1::2] + SAMPLES[::2]
    assert usage == window_usage(shuffled, tally, direction, NOW)  # type: ignore[arg-type]
    assert usage.counted[0] == (NOW - 7 * DAY, 0) and usage.counted[-1][0] == NOW


def test_the_free_hours_follow_the_local_clock_across_the_change() -> None:
    usage = window_usage(columns_of(SAMPLES), NIGHT, "download", NOW)
    counted = {t for t, _ in usage.moved}
    # 05:30 UTC was 06:30 in Paris (free) on Saturday, 07:30 (counted) on Sunday.
    saturday = 1_806_125_400
    assert saturday not in counted and saturday + DAY in counted
    assert usage.free_total > 0


def test_thinning_keeps_the_last_point_of_each_slice_and_the_first() -> None:
    points = [(t * 7, t) for t in range(1000)]  # 6,993 seconds in 10 slices of 699.3
    kept = thinned(points, 10)
    slice_of = [int(t / 699.3) for t, _ in points]
    lasts = [p for i, p in enumerate(points[:-1]) if slice_of[i] != slice_of[i + 1]]
    assert kept == [points[0], *lasts, points[-1]]
    assert len(kept) == 12  # the first, the last of each of ten slices, the end (alone in an 11th)


def test_the_pace_counts_only_the_last_day_in_any_order() -> None:
    moved = [(NOW - 2 * DAY, 10**9), (NOW, 6), (NOW - DAY, 10**6), (NOW - DAY + 1, 3)]
    assert pace(moved, NOW) == 9 / DAY
