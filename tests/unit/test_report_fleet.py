"""The operator's figures worked out fast give what the plain way gives, to the byte: local
days by their boundaries across daylight-saving changes, daily volumes cut by bisection,
the free hours asked once per time, the overshoot's peak from the window's first sample,
and the figures worked out once for the charts and the site's table."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fixtures import report_ledger as fx

from nmsquota.config import load_config
from nmsquota.ledger.base import Location
from nmsquota.policy import used
from nmsquota.policy.terms import Direction
from nmsquota.report import fleet, site
from nmsquota.report.operator import charts_of, operator_charts, operator_figures
from nmsquota.standings import CapView, Reader
from nmsquota.usage import FreeHours, Monthly, Sample, Tally, Totals

FIVE_MINUTES = 300
ZONES_AND_CHANGES = [
    # Berlin: clocks forward 02:00 -> 03:00 on 28 March 2027, back 03:00 -> 02:00 on 31 October.
    ("Europe/Berlin", date(2027, 3, 28)),
    ("Europe/Berlin", date(2027, 10, 31)),
    # Adelaide (+9:30/+10:30): back 03:00 -> 02:00 on 4 April 2027, forward on 3 October.
    ("Australia/Adelaide", date(2027, 4, 4)),
    ("Australia/Adelaide", date(2027, 10, 3)),
    # Santiago changes its clock at midnight: a local day that starts at 01:00, or at 23:00.
    ("America/Santiago", date(2027, 4, 4)),
    ("America/Santiago", date(2027, 9, 5)),
]


def week_around(change: date) -> list[date]:
    return [change + timedelta(days=n) for n in range(-3, 4)]


def every_five_minutes(days: Sequence[date], zone: ZoneInfo) -> range:
    """From the day before the first to the day after the last, in UTC seconds."""
    start = fleet.day_start(days[0] - timedelta(days=1), zone)
    end = fleet.day_start(days[-1] + timedelta(days=2), zone)
    return range(start - start % FIVE_MINUTES, end, FIVE_MINUTES)


def samples_of(names: Sequence[str], times: range, seed: int) -> dict[str, list[Sample]]:
    """Someone online now and then (no sample while away), some intervals with nothing down."""
    rng = random.Random(seed)
    found: dict[str, list[Sample]] = {name: [] for name in names}
    for t in times:
        for name in names:
            if rng.random() < 0.6:
                amount = rng.choice([0, rng.randrange(1, 10**9)])
                found[name].append(Sample(name, t, amount, rng.randrange(10**6)))
    return found


def by_conversion(samples: Sequence[Sample], days: Sequence[date], zone: ZoneInfo) -> fleet.Volumes:
    """The plain way: each sample's local day by converting its time."""
    found: fleet.Volumes = {day: {} for day in days}
    for sample in samples:
        table = found.get(datetime.fromtimestamp(sample.time, zone).date())
        if table is not None and sample.bytes_in:
            table[sample.subscriber] = table.get(sample.subscriber, 0) + sample.bytes_in
    return found


@pytest.mark.parametrize(("zone_name", "change"), ZONES_AND_CHANGES)
def test_a_times_day_by_the_boundaries_is_its_local_day(zone_name: str, change: date) -> None:
    zone = ZoneInfo(zone_name)
    days = week_around(change)
    local = fleet.LocalDays(days, zone)
    for t in every_five_minutes(days, zone):
        day = datetime.fromtimestamp(t, zone).date()
        expected = day if day in days else None
        assert local.day_of(t) == expected == local.convert(t), t


@pytest.mark.parametrize(("zone_name", "change"), ZONES_AND_CHANGES)
def test_daily_volumes_across_a_clock_change_are_the_conversions(
    zone_name: str, change: date, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone = ZoneInfo(zone_name)
    days = week_around(change)
    grouped = samples_of(["ann", "bob", "cyd"], every_five_minutes(days, zone), seed=7)
    everyone = [s for group in grouped.values() for s in group]
    expected = by_conversion(everyone, days, zone)
    assert fleet.daily_volumes(everyone, days, zone) == expected
    # By the boundaries alone: the conversion per sample is only the way out of order.
    monkeypatch.setattr(fleet, "daily_volumes", None)
    assert fleet.volumes_of(grouped, days, zone) == expected
    # Days shown need not be consecutive, nor cover every sample.
    some = days[1::2]
    assert fleet.volumes_of(grouped, some, zone) == by_conversion(everyone, some, zone)


def test_daily_volumes_of_samples_out_of_order_are_the_conversions() -> None:
    zone = ZoneInfo("Europe/Berlin")
    days = week_around(date(2027, 3, 28))
    grouped = samples_of(["ann", "bob"], every_five_minutes(days, zone), seed=3)
    grouped["bob"].reverse()
    everyone = [s for group in grouped.values() for s in group]
    assert fleet.volumes_of(grouped, days, zone) == by_conversion(everyone, days, zone)


def test_daily_volumes_whose_boundaries_disagree_take_the_conversions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The boundaries are checked against each time's conversion: one wrong boundary (as in
    a zone whose clock went back across midnight) is not trusted."""
    zone = ZoneInfo("UTC")
    days = week_around(date(2027, 1, 12))
    grouped = samples_of(["ann", "bob"], every_five_minutes(days, zone), seed=5)
    everyone = [s for group in grouped.values() for s in group]
    real = fleet.LocalDays.__init__

    def one_hour_late(self: fleet.LocalDays, shown: Sequence[date], zone: ZoneInfo) -> None:
        real(self, shown, zone)
        self.spans = [(day, start + 3600, end + 3600) for day, start, end in self.spans]
        self._starts = [start for _, start, _ in self.spans]

    monkeypatch.setattr(fleet.LocalDays, "__init__", one_hour_late)
    assert fleet.volumes_of(grouped, days, zone) == by_conversion(everyone, days, zone)


def test_a_tally_counts_a_time_as_it_says_once_per_time() -> None:
    tally = Tally(7 * fx.DAY, FreeHours(23 * 60, 7 * 60, "Australia/Adelaide"))
    days = week_around(date(2027, 4, 4))
    counts = fleet.CountedTimes().of(tally)
    times = every_five_minutes(days, ZoneInfo("Australia/Adelaide"))
    assert [counts(t) for t in times] == [tally.counts(t) for t in times]
    assert all(fleet.CountedTimes().of(Tally(fx.DAY))(t) for t in times[:50])


def peak_from_the_first_sample(samples: Sequence[Sample], cap: CapView, start: int,
                               end: int) -> int:  # fmt: skip
    """The plain way: a running total over every sample from the oldest."""
    amounts = [used(Totals(s.bytes_in, s.bytes_out), cap.direction)
               if cap.tally.counts(s.time) else 0 for s in samples]  # fmt: skip
    total = peak = oldest = 0
    for index, sample in enumerate(samples):
        if sample.time > end:
            break
        total += amounts[index]
        while samples[oldest].time <= cap.tally.edge_at(sample.time):
            total -= amounts[oldest]
            oldest += 1
        if sample.time >= start:
            peak = max(peak, total)
    return peak


def cap_on(tally: Tally, direction: Direction) -> CapView:
    return CapView(name="", label="x", tally=tally, direction=direction, cap=10**9,
                   totals=Totals(), decided=None)  # fmt: skip


@pytest.mark.parametrize("tally", [
    Tally(2 * fx.DAY, FreeHours(0, 7 * 60, "Europe/Berlin")),
    Tally(fx.DAY),
    Tally(31 * fx.DAY, period=Monthly(reset_day=28, timezone="Europe/Berlin")),
], ids=["rolling-free-hours", "rolling", "monthly"])  # fmt: skip
@pytest.mark.parametrize("direction", ["download", "upload", "both"])
def test_the_peak_in_the_window_is_the_running_totals_from_the_first_sample(
    tally: Tally, direction: Direction
) -> None:
    zone = ZoneInfo("Europe/Berlin")
    days = week_around(date(2027, 3, 28))
    samples = samples_of(["ann"], every_five_minutes(days, zone), seed=11)["ann"]
    cap = cap_on(tally, direction)
    rng = random.Random(13)
    counted = fleet.CountedTimes()
    times = [s.time for s in samples]
    for _ in range(60):
        start = rng.choice(times) + rng.choice([-1, 0, 1])
        end = start + rng.randrange(0, 3 * fx.DAY)
        expected = peak_from_the_first_sample(samples, cap, start, end)
        assert fleet.peak_in_window(samples, cap, start, end, counted) == expected
        assert fleet.peak_in_window(samples, cap, start, end) == expected
    assert fleet.peak_in_window([], cap, times[0], times[-1]) == 0


def test_the_figures_worked_out_once_are_the_charts_and_the_tables(
    tmp_path: Path, ledger_at: Location
) -> None:
    config = load_config(fx.write_config(tmp_path / "report"), check_drivers=False)
    fx.write_ledger(ledger_at)
    reader = Reader.open(ledger_at, config)
    snap = reader.snapshot()
    samples = reader.samples(["dora", "ivan"], fx.AS_OF - 14 * fx.DAY)
    events = reader.events()
    utc = ZoneInfo("UTC")
    figures = operator_figures(snap, fleet.by_subscriber(samples), events, fx.AS_OF, utc)
    assert figures.days == fleet.days_until(fx.AS_OF, 7, utc)
    assert figures.volumes == by_conversion(samples, figures.days, utc)
    assert figures.volume == fleet.isp_volume(figures.volumes)
    spans = fleet.limited_spans(events, snap.limits, fx.AS_OF)
    assert figures.limited == fleet.limited_per_day(spans, figures.days, utc)
    assert [o.subscriber for o in figures.overshoots] == ["ivan"]
    drawn = operator_charts(snap, samples, events, fx.AS_OF, utc, top=2)
    assert charts_of(figures, utc, top=2) == drawn


def test_the_index_reads_the_window_before_its_days_only_for_a_limit_at_a_cap(
    tmp_path: Path, ledger_at: Location
) -> None:
    """dora, under her cap, needs nothing before the index's first day; ivan, limited at his
    cap on Wednesday, his window before it (the overshoot's peak). The index is the same as
    from everyone's samples since the window before the first day."""
    config = load_config(fx.write_config(tmp_path / "report"), check_drivers=False)
    fx.write_ledger(ledger_at)
    reader = Reader.open(ledger_at, config)
    snap, events, utc = reader.snapshot(), reader.events(), ZoneInfo("UTC")
    first = fleet.day_start(fleet.days_until(fx.AS_OF, site.DAYS, utc)[0], utc)
    read = site._samples(reader, snap, [], True, events, utc)
    everyone = fleet.by_subscriber(reader.samples(["dora", "ivan"], first - 7 * fx.DAY))
    assert list(read["ivan"]) == everyone["ivan"]
    assert read["ivan"][0].time < first
    assert list(read["dora"]) == [s for s in everyone["dora"] if s.time >= first]
    assert len(read["dora"]) < len(everyone["dora"])
    sections = site._operator_sections(snap, read, events, utc)
    assert sections == site._operator_sections(snap, everyone, events, utc)
