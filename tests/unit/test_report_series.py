"""The arithmetic under a subscriber's graph: the cumulative series of a cap's window, the
free hours kept apart, the pace and where it takes a rolling or monthly window."""

from __future__ import annotations

from nmsquota.report.series import pace, reaches, thinned, window_usage
from nmsquota.usage import FreeHours, Monthly, Sample, Tally

HOUR = 3600
DAY = 86400
NOW = 1_800_014_400  # Fri 2027-01-15 12:00 UTC
WEEK = Tally(7 * DAY)


def hourly(amount: int, start: int, end: int, name: str = "a") -> list[Sample]:
    return [Sample(name, t, amount, 1) for t in range(start + HOUR, end + 1, HOUR)]


def test_the_series_climbs_from_the_window_edge_to_the_usage_in_the_window() -> None:
    samples = hourly(10, NOW - 10 * DAY, NOW)
    usage = window_usage(samples, WEEK, "download", NOW)
    assert usage.counted[0] == (NOW - 7 * DAY, 0)
    assert usage.used == 10 * 7 * 24
    assert [b for _, b in usage.counted] == sorted(b for _, b in usage.counted)


def test_usage_in_the_free_hours_is_its_own_series_and_not_counted() -> None:
    night = Tally(7 * DAY, FreeHours(0, 7 * 60, "UTC"))
    samples = hourly(10, NOW - 7 * DAY, NOW)
    usage = window_usage(samples, night, "download", NOW)
    assert usage.used == 10 * 17 * 7
    assert usage.free_total == 10 * 7 * 7


def test_the_cap_direction_decides_what_counts() -> None:
    usage = window_usage(hourly(10, NOW - DAY, NOW), WEEK, "both", NOW)
    assert usage.used == 11 * 24


def test_the_pace_is_the_last_days_counted_usage_per_second() -> None:
    usage = window_usage(hourly(36, NOW - 3 * DAY, NOW), WEEK, "download", NOW)
    assert pace(usage.moved, NOW) == 36 * 24 / DAY


def test_a_pace_above_what_leaves_the_window_meets_the_cap_when_the_difference_covers_it() -> None:
    # 100 B an hour for a week, then 300 B an hour: each hour 300 come in and 100 leave.
    samples = hourly(100, NOW - 7 * DAY, NOW - DAY) + hourly(300, NOW - DAY, NOW)
    usage = window_usage(samples, WEEK, "download", NOW)
    assert usage.used == 100 * 144 + 300 * 24
    cap = usage.used + 2000
    # The pace comes in continuously, the old hours leave whole, at each hour's end: after
    # 9 h 40 min, 2,900 B came in and 9 hours (900 B) left, before the 10th leaves.
    assert reaches(usage, WEEK, cap, pace(usage.moved, NOW)) == NOW + 9 * HOUR + 40 * 60


def test_a_steady_pace_never_meets_a_rolling_cap_above_its_level() -> None:
    usage = window_usage(hourly(100, NOW - 8 * DAY, NOW), WEEK, "download", NOW)
    per_second = pace(usage.moved, NOW)
    # Within each hour the pace brings in up to an hour's worth before the oldest leaves.
    assert reaches(usage, WEEK, usage.used + 150, per_second) is None
    assert reaches(usage, WEEK, usage.used + 50, per_second) == NOW + 30 * 60


def test_no_usage_never_meets_the_cap_and_usage_over_it_is_there_already() -> None:
    usage = window_usage(hourly(100, NOW - DAY, NOW), WEEK, "download", NOW)
    assert reaches(usage, WEEK, 10**9, 0.0) is None
    assert reaches(usage, WEEK, usage.used, 1.0) == NOW


def test_a_monthly_cap_forgets_nothing_until_its_reset() -> None:
    month = Tally(31 * DAY, period=Monthly(1, "UTC"))
    usage = window_usage(hourly(100, NOW - 3 * DAY, NOW), month, "download", NOW)
    per_second = pace(usage.moved, NOW)
    assert reaches(usage, month, usage.used + 2400 * 3, per_second) == NOW + 3 * DAY
    # The 1st of February comes first.
    assert reaches(usage, month, usage.used + 2400 * 30, per_second) is None


def test_thinning_keeps_the_first_and_last_points_and_the_shape() -> None:
    points = [(t, t * 2) for t in range(2016)]
    kept = thinned(points, 200)
    assert kept[0] == points[0] and kept[-1] == points[-1]
    assert 150 <= len(kept) <= 202
    assert all(b == 2 * t for t, b in kept)
