"""The figures under the operator's graphs: the ISP's volume per day and how many were
limited each day, each subscriber's volume per day (the top users), everyone's usage as a
share of their cap, and how far past the cap each limit let usage go. Pure arithmetic over
samples, events and a snapshot's views; the days are local days in the given zone.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain, pairwise
from operator import gt
from zoneinfo import ZoneInfo

from nmsquota.ledger.records import EventKind, EventRecord, Limit
from nmsquota.policy import used
from nmsquota.standings import CapView, SubscriberView
from nmsquota.usage import Sample, SampleColumns, Tally, Totals
from nmsquota.verdict import Reason, ReasonKind

Volumes = dict[date, dict[str, int]]
"""Local day -> subscriber -> bytes downloaded that day."""

SHARE_BINS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)
"""Upper bounds (percent of the cap) of the distribution's bins; past 100%, one more."""


def days_until(as_of: int, count: int, zone: ZoneInfo) -> list[date]:
    """The last `count` local days, the day of `as_of` (so far) the last."""
    last = datetime.fromtimestamp(as_of, zone).date()
    return [last - timedelta(days=n) for n in range(count - 1, -1, -1)]


def day_start(day: date, zone: ZoneInfo) -> int:
    """When the local day began."""
    return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())


def daily_volumes(samples: Iterable[Sample], days: Sequence[date], zone: ZoneInfo) -> Volumes:
    """Bytes downloaded (towards the subscriber, as the paper counted the ISP's volume) per
    local day of `days` and subscriber; days without any are there, empty."""
    found: Volumes = {day: {} for day in days}
    # The samples of one cycle share their time across every subscriber: each time's local
    # day (so its table, None for a day not shown) is worked out once, not once per sample
    # (a week of 5-minute cycles is 2,016 times; at 5,000 subscribers, 2 million samples).
    table_at: dict[int, dict[str, int] | None] = {}
    for sample in samples:
        amount = sample.bytes_in
        if not amount:
            continue
        time = sample.time
        try:
            table = table_at[time]
        except KeyError:
            # A sample's bytes are the interval's that ends at its time: counted on that day.
            day = datetime.fromtimestamp(time, zone).date()
            table = table_at[time] = found.get(day)
        if table is not None:
            name = sample.subscriber
            table[name] = table.get(name, 0) + amount
    return found


def volumes_of(samples: Mapping[str, Sequence[Sample]], days: Sequence[date],
               zone: ZoneInfo) -> Volumes:  # fmt: skip
    """daily_volumes of subscriber -> theirs, oldest first, the same to the byte: each
    subscriber's samples are cut at the local days' boundaries by bisection, and a sum per
    day, instead of one step per sample. The boundaries are checked against each distinct
    time's local day (a zone whose clock went back across midnight, or samples out of
    order, take daily_volumes' way)."""
    local = LocalDays(days, zone)
    found: Volumes = {day: {} for day in days}
    seen: set[int] = set()
    for name, group in samples.items():
        if isinstance(group, SampleColumns):  # what the site reads: no Sample made
            times, downloaded = group.times, group.bytes_in
        else:
            times, downloaded = [s.time for s in group], [s.bytes_in for s in group]
        if any(map(gt, times, times[1:])):
            return daily_volumes(chain.from_iterable(samples.values()), days, zone)
        seen.update(times)
        for day, start, end in local.spans:
            first, last = bisect_left(times, start), bisect_left(times, end)
            amount = sum(downloaded[first:last])
            if amount:
                found[day][name] = amount
    if not all(local.day_of(time) == local.convert(time) for time in seen):
        return daily_volumes(chain.from_iterable(samples.values()), days, zone)
    return found


class LocalDays:
    """Some local days by when each began and ended, so that a time's day is a bisection
    rather than a conversion to local time."""

    def __init__(self, days: Iterable[date], zone: ZoneInfo) -> None:
        self.zone = zone
        self.spans = [(day, day_start(day, zone), day_start(day + timedelta(days=1), zone))
                      for day in sorted(set(days))]  # fmt: skip
        self._starts = [start for _, start, _ in self.spans]
        self._days = {day for day, _, _ in self.spans}

    def day_of(self, time: int) -> date | None:
        """The day of these that `time` is in, by the boundaries (None: in none)."""
        index = bisect_right(self._starts, time) - 1
        if index < 0:
            return None
        day, _, end = self.spans[index]
        return day if time < end else None

    def convert(self, time: int) -> date | None:
        """The day of these that `time` is in, by conversion to local time (None: in none)."""
        day = datetime.fromtimestamp(time, self.zone).date()
        return day if day in self._days else None


def isp_volume(volumes: Volumes) -> dict[date, int]:
    return {day: sum(table.values()) for day, table in volumes.items()}


def top_users(volumes: Volumes, count: int) -> list[str]:
    """The `count` subscribers who downloaded most over all the days, the most first (by
    name among equals)."""
    totals: dict[str, int] = {}
    for table in volumes.values():
        for name, amount in table.items():
            totals[name] = totals.get(name, 0) + amount
    return sorted(totals, key=lambda name: (-totals[name], name))[:count]


def limited_spans(events: Iterable[EventRecord], limits: Iterable[Limit],
                  as_of: int) -> dict[str, list[tuple[int, int]]]:  # fmt: skip
    """When each subscriber was limited, as (start, end) spans: from the kept event log (a
    limit applied until the next lifted), and the limits in force, which the bounded log
    may have lost the start of, until `as_of`."""
    spans: dict[str, list[tuple[int, int]]] = {}
    open_since: dict[str, int] = {}
    for event in sorted(events, key=lambda e: (e.time, e.seq)):
        name = event.subscriber
        if name is None:
            continue
        if event.kind is EventKind.LIMIT_APPLIED:
            open_since.setdefault(name, round(event.time))
        elif event.kind is EventKind.LIMIT_LIFTED and name in open_since:
            spans.setdefault(name, []).append((open_since.pop(name), round(event.time)))
    for limit in limits:
        start = min(open_since.pop(limit.subscriber, limit.since), limit.since)
        spans.setdefault(limit.subscriber, []).append((start, as_of))
    # An applied event with neither a lift nor a limit in force: lifted, the lift's event
    # lost to the bounded log; nothing says when, so it counts on its own day only.
    for name, start in open_since.items():
        spans.setdefault(name, []).append((start, start))
    return spans


def limited_per_day(spans: Mapping[str, Sequence[tuple[int, int]]], days: Sequence[date],
                    zone: ZoneInfo) -> dict[date, int]:  # fmt: skip
    """How many subscribers were limited at some moment of each day."""
    counts = {}
    for day in days:
        start = day_start(day, zone)
        end = day_start(day + timedelta(days=1), zone)
        counts[day] = sum(1 for held in spans.values()
                          if any(a < end and b >= start for a, b in held))  # fmt: skip
    return counts


def shares_of_cap(views: Iterable[SubscriberView]) -> dict[str, list[float]]:
    """Cap label -> each subscriber's usage in it as a percentage of the plan's cap (those
    without a plan are on no cap)."""
    found: dict[str, list[float]] = {}
    for view in views:
        for cap in view.caps:
            found.setdefault(cap.label, []).append(cap.percent)
    return found


def share_bins(percents: Iterable[float]) -> list[int]:
    """How many fall in each bin of SHARE_BINS (a bin holds up to its bound, 0% in the
    first), and past the last bound in one more."""
    counts = [0] * (len(SHARE_BINS) + 1)
    for percent in percents:
        index = next((i for i, bound in enumerate(SHARE_BINS) if percent <= bound),
                     len(SHARE_BINS))  # fmt: skip
        counts[index] += 1
    return counts


def bin_labels() -> list[str]:
    bounds = [0, *SHARE_BINS]
    return [f"{a}-{b}%" for a, b in pairwise(bounds)] + [f"over {SHARE_BINS[-1]}%"]


@dataclass(frozen=True, slots=True)
class Overshoot:
    """One limit at a cap, and how far usage in the cap's window went past the cap in force
    between the limit's start and its end (or the last commit)."""

    subscriber: str
    cap_label: str
    time: int
    cap: int
    peak: int

    @property
    def past(self) -> int:
        return max(0, self.peak - self.cap)


def overshoots(events: Iterable[EventRecord], spans: Mapping[str, Sequence[tuple[int, int]]],
               views: Mapping[str, SubscriberView], samples: Mapping[str, Sequence[Sample]],
               since: int) -> list[Overshoot]:  # fmt: skip
    """One per limit applied at a cap's own threshold (steps and forced limits are not
    over the cap) after `since`, oldest first. `samples`: subscriber -> theirs, oldest
    first, at least the limited subscribers', from a window before `since` on."""
    found = []
    counted = CountedTimes()
    for event, reason, name in limits_at_cap(events, since):
        view = views.get(name)
        cap = next((c for c in view.caps if c.name == reason.cap_name), None) if view else None
        if cap is None:
            continue
        start = round(event.time)
        end = next((b for a, b in spans.get(name, ()) if a <= start <= b), start)
        in_window = peak_in_window(samples.get(name, ()), cap, start, end, counted)
        found.append(Overshoot(name, cap.label, start, reason.cap, max(reason.used, in_window)))
    return sorted(found, key=lambda o: (o.time, o.subscriber))


def limits_at_cap(events: Iterable[EventRecord],
                  since: int) -> Iterator[tuple[EventRecord, Reason, str]]:  # fmt: skip
    """The limits applied at a cap's own threshold after `since` (steps and forced limits
    are not over the cap), each with its reason and subscriber."""
    for event in events:
        reason, name = event.reason, event.subscriber
        if (event.kind is EventKind.LIMIT_APPLIED and reason is not None and name is not None
                and reason.kind is ReasonKind.OVER and reason.step_at is None
                and event.time > since):  # fmt: skip
            yield event, reason, name


def by_subscriber(samples: Iterable[Sample]) -> dict[str, list[Sample]]:
    """Each subscriber's samples, in the order given."""
    found: dict[str, list[Sample]] = {}
    for sample in samples:
        found.setdefault(sample.subscriber, []).append(sample)
    return found


class CountedTimes:
    """Whether a tally counts a time (outside its free hours), worked out once per tally and
    time: the samples of one cycle share their time across every subscriber, and asking
    costs a conversion to local time."""

    def __init__(self) -> None:
        self._known: dict[Tally, dict[int, bool]] = {}

    def of(self, tally: Tally) -> Callable[[int], bool]:
        if tally.free is None:
            return _always
        known = self._known.setdefault(tally, {})

        def counts(when: int) -> bool:
            found = known.get(when)
            if found is None:
                found = known[when] = tally.counts(when)
            return found

        return counts


def _always(when: int) -> bool:
    return True


def peak_in_window(samples: Sequence[Sample], cap: CapView, start: int, end: int,
                   counted: CountedTimes | None = None) -> int:  # fmt: skip
    """The most usage the cap's window held at any sample's time from `start` to `end`
    (samples oldest first). The window's edge only moves forward (a rolling window's with
    time, a monthly one's at each reset), so one pass with a running total does, and it
    starts at the first sample inside the window at `start`: none before it is in the
    window at any later time."""
    tally, direction = cap.tally, cap.direction
    counts = (counted or CountedTimes()).of(tally)
    times = [s.time for s in samples]
    first = bisect_right(times, tally.edge_at(start))
    last = bisect_right(times, end)
    amounts = [used(Totals(s.bytes_in, s.bytes_out), direction) if counts(s.time) else 0
               for s in samples[first:last]]  # fmt: skip
    total = peak = 0
    oldest = 0
    for index, amount in enumerate(amounts):
        time = times[first + index]
        total += amount
        edge = tally.edge_at(time)
        while times[first + oldest] <= edge:
            total -= amounts[oldest]
            oldest += 1
        if time >= start and total > peak:
            peak = total
    return peak
