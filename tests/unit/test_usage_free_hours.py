"""Free hours on the local clock, remembered per moment (a site asks about the same 2,016
moments for 5,000 subscribers): the answer is the zone's for that moment, through changes
of DST of an hour and of half an hour, and the bulk forms answer as one call each."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from nmsquota import usage
from nmsquota.usage import FreeHours, Tally, local_minute, local_minutes

FIVE_MINUTES = 300


def spring_and_autumn_days(zone: str, year: int) -> list[int]:
    """Every 5-minute moment of the days on which `zone`'s offset changes in `year`."""
    local = ZoneInfo(zone)
    moments = []
    day = int(datetime(year, 1, 1, tzinfo=local).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=local).timestamp())
    while day < end:
        before = datetime.fromtimestamp(day, local).utcoffset()
        after = datetime.fromtimestamp(day + 86400, local).utcoffset()
        if before != after:
            moments += range(day - 3600, day + 86400 + 3600, FIVE_MINUTES)
        day += 86400
    return moments


def minute_of(when: int, zone: str) -> int:
    local = datetime.fromtimestamp(when, ZoneInfo(zone))
    return local.hour * 60 + local.minute


@pytest.mark.parametrize("zone", ["Europe/Paris", "Australia/Lord_Howe", "America/St_Johns"])
def test_the_local_minute_is_the_zones_own_through_every_change_of_dst(zone: str) -> None:
    moments = spring_and_autumn_days(zone, 2027)
    assert moments, f"{zone} changes its offset in 2027"
    for _ in range(2):  # asked afresh, then remembered
        assert [local_minute(zone, t) for t in moments] == [minute_of(t, zone) for t in moments]


def test_the_same_utc_hour_is_free_before_the_change_and_not_after_it() -> None:
    # 00:00-07:00 free in Paris; 05:30 UTC is 06:30 CET on Saturday 27 March 2027 and
    # 07:30 CEST on Sunday 28 March, the day summer time begins.
    night = FreeHours(0, 7 * 60, "Europe/Paris")
    saturday = int(datetime(2027, 3, 27, 5, 30, tzinfo=ZoneInfo("UTC")).timestamp())
    sunday = saturday + 86400
    assert night.contains(saturday) and not night.contains(sunday)
    assert night.contains_each([saturday, sunday]) == [True, False]


@pytest.mark.parametrize("start, end", [(0, 7 * 60), (23 * 60, 6 * 60 + 30), (90, 90)])
def test_each_moment_in_bulk_is_answered_as_contains_answers_it(start: int, end: int) -> None:
    free = FreeHours(start, end, "Australia/Lord_Howe")
    moments = spring_and_autumn_days("Australia/Lord_Howe", 2027)
    assert free.contains_each(moments) == [free.contains(t) for t in moments]
    tally = Tally(7 * 86400, free)
    assert tally.counts_each(moments) == [tally.counts(t) for t in moments]


def test_without_free_hours_every_moment_counts() -> None:
    assert Tally(86400).counts_each([1, 2, 3]) == [True, True, True]


def test_a_moment_is_worked_out_once_for_every_subscriber_sharing_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worked_out: list[int] = []
    real = usage._minute_at

    def counted(timezone: str, when: int) -> int:
        worked_out.append(when)
        return real(timezone, when)

    monkeypatch.setattr(usage, "_minute_at", counted)
    monkeypatch.setattr(usage, "_MINUTES", {})
    night = FreeHours(0, 7 * 60, "Europe/Paris")
    moments = list(range(1_900_000_000, 1_900_000_000 + 2016 * FIVE_MINUTES, FIVE_MINUTES))
    for _ in range(50):  # fifty subscribers' weeks on the same cycles
        assert night.contains_each(moments) == [night.contains(t) for t in moments]
    assert sorted(worked_out) == moments


def test_what_is_remembered_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(usage, "_MINUTES", {})
    monkeypatch.setattr(usage, "REMEMBERED_MOMENTS", 100)
    for start in range(0, 10_000, 50):
        times = range(start * 60, (start + 50) * 60, 60)
        assert local_minutes("UTC", times) == [t // 60 % 1440 for t in times]
    assert len(usage._MINUTES["UTC"]) <= 100 + 50
