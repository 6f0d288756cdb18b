"""A subscriber's usage in one cap's window as the graphs draw it, and where the pace of
their last day takes them: pure arithmetic over samples and "now" (the ledger's last
commit), no clock read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress
from operator import attrgetter, ne

from nmsquota.ledger.records import Direction
from nmsquota.policy import used
from nmsquota.usage import Sample, SampleColumns, Tally, Totals

PACE_SECONDS = 86400
"""The pace is the counted usage of the last day, per second: recent enough to follow a
change of habit, long enough to hold a whole day's rhythm (evenings, the free night)."""

Point = tuple[int, int]
"""(time, bytes)."""


@dataclass(frozen=True, slots=True)
class WindowUsage:
    """One cap's window as of `as_of`: the usage counted against the cap and the usage in
    its free hours, each cumulative from the window's edge (0 there) to `as_of`."""

    edge: int
    as_of: int
    counted: tuple[Point, ...]
    free: tuple[Point, ...]
    moved: tuple[Point, ...]
    """(time, bytes counted) of each sample in the window, for the pace and the lift."""

    @property
    def used(self) -> int:
        return self.counted[-1][1]

    @property
    def free_total(self) -> int:
        return self.free[-1][1]

    def at(self, when: int) -> int:
        """The counted usage, cumulative from the edge, at `when`."""
        found = 0
        for time, total in self.counted:
            if time > when:
                break
            found = total
        return found


def window_usage(samples: Iterable[Sample], tally: Tally, direction: Direction,
                 as_of: int) -> WindowUsage:  # fmt: skip
    """`samples` (any order, any subscriber's: only those in the window count) as the
    cumulative series of one cap: counted, and free (usage in the cap's free hours).
    SampleColumns (one subscriber's, in time order) are read as columns, without a
    Sample made for each: a site draws 5,000 subscribers' weeks."""
    edge = tally.edge_at(as_of)
    times: Sequence[int]
    if isinstance(samples, SampleColumns):
        where = samples.between(edge, as_of)
        times, amounts = samples.times[where], samples.moved(direction, where)
    else:
        inside = sorted((s for s in samples if edge < s.time <= as_of), key=_time)
        times = [s.time for s in inside]
        amounts = [used(Totals(s.bytes_in, s.bytes_out), direction) for s in inside]
    if tally.free is None:
        counts, frees = amounts, [0] * len(amounts)
        moved = list(zip(times, amounts, strict=True))
    else:
        flags = tally.counts_each(times)
        counts = [amount if flag else 0 for amount, flag in zip(amounts, flags, strict=True)]
        frees = [0 if flag else amount for amount, flag in zip(amounts, flags, strict=True)]
        moved = list(compress(zip(times, amounts, strict=True), flags))
    counted = [(edge, 0), *zip(times, accumulate(counts), strict=True)]
    free = [(edge, 0), *zip(times, accumulate(frees), strict=True)]
    if counted[-1][0] != as_of:
        counted.append((as_of, counted[-1][1]))
        free.append((as_of, free[-1][1]))
    return WindowUsage(edge, as_of, tuple(counted), tuple(free), tuple(moved))


_time = attrgetter("time")


def pace(moved: Sequence[Point], as_of: int, over: int = PACE_SECONDS) -> float:
    """Counted bytes per second over the last `over` seconds before `as_of`."""
    since = as_of - over
    return sum([amount for time, amount in moved if time > since]) / over


def reaches(usage: WindowUsage, tally: Tally, cap: int, per_second: float) -> int | None:
    """When usage at `per_second` from `as_of` on reaches `cap` in the window (`as_of` if
    it is there already); None: it stays under.

    A rolling window forgets as it goes: at t the window holds the samples after t - window
    and the pace's bytes since `as_of`, which themselves leave after a window. So the
    total climbs at the pace and drops as each old sample leaves, and levels off at
    pace x window once the last of them has gone: the cap is met within one window, or
    never. A monthly cap forgets nothing until its reset."""
    as_of, total = usage.as_of, usage.used
    if total >= cap:
        return as_of
    if per_second <= 0:
        return None
    if tally.period is not None:
        period_start = tally.edge_at(as_of) + 1
        reset = tally.period.start(period_start + 32 * 86400)
        when = as_of + math.ceil((cap - total) / per_second)
        return when if when < reset else None
    start, level, window = as_of, float(total), tally.window
    for time, amount in usage.moved:
        leaves = time + window
        if leaves <= as_of:
            continue
        crossing = start + (cap - level) / per_second
        if crossing <= leaves:
            return math.ceil(crossing)
        level += per_second * (leaves - start) - amount
        start = leaves
    crossing = start + (cap - level) / per_second
    return math.ceil(crossing) if crossing <= as_of + window else None


def thinned(points: Sequence[Point], most: int = 150) -> list[Point]:
    """At most about `most` of a cumulative series' points, for drawing: the last of each
    equal slice of its span (a cumulative series loses nothing of its shape but the steps
    inside a slice), the first and last kept. A week of 5-minute samples is 2,016 points;
    a chart has 700 pixels across."""
    if len(points) <= most:
        return list(points)
    start, end = points[0][0], points[-1][0]
    width = max(1, (end - start) / most)
    slots = [int((time - start) / width) for time, _ in points]
    last = len(points) - 1
    # A point is the last of its slice when the next is in another (each slice worked
    # out once, not twice: the charts thin every series of every page).
    kept = [points[0], *compress(points[1:last], map(ne, slots[1:last], slots[2:]))]
    return [*kept, points[last]] if last else kept
