"""Usage as every layer counts it: samples, totals, the windows they are tallied over
(rolling, monthly, with free hours), and the names subscribers go by. Pure values; the
ledger stores them, the poller produces them, the policy judges them."""

from __future__ import annotations

import re
from array import array
from bisect import bisect_right
from collections.abc import Iterable, Iterator, MutableSequence, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from operator import add
from typing import overload
from zoneinfo import ZoneInfo

from nmsquota.units import format_duration

# Login names as access servers and RADIUS carry them: no spaces, so that the paper's text
# forms can hold them; realms (user@isp) and dotted names allowed.
SUBSCRIBER_NAME = r"[A-Za-z0-9][A-Za-z0-9._@+-]*"
_NAME_RE = re.compile(SUBSCRIBER_NAME)


def is_subscriber_name(name: object) -> bool:
    return isinstance(name, str) and len(name) <= 253 and _NAME_RE.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class Sample:
    """Bytes a subscriber moved during one polling interval ending at `time`.

    `bytes_in` is traffic towards the subscriber (their download), `bytes_out` from them,
    as in the paper's usage file.
    """

    subscriber: str
    time: int
    bytes_in: int
    bytes_out: int


_EVERY = slice(None)


class SampleColumns(Sequence[Sample]):
    """One subscriber's samples, oldest first, as three columns of machine integers: what
    a reader of thousands of subscribers' weeks keeps (a Sample object costs a microsecond
    to make and 64 bytes; 2.6 million of them were a report site's biggest cost), and a
    sequence of Sample to whoever wants them one at a time (each made when asked for)."""

    __slots__ = ("bytes_in", "bytes_out", "subscriber", "times")

    def __init__(self, subscriber: str) -> None:
        self.subscriber = subscriber
        self.times: MutableSequence[int] = array("q")
        self.bytes_in: MutableSequence[int] = array("Q")
        self.bytes_out: MutableSequence[int] = array("Q")

    @classmethod
    def interleaved(cls, subscriber: str, rows: Sequence[int]) -> SampleColumns:
        """Columns from [time, bytes_in, bytes_out, time, ...] in time order: how a
        reader gathers thousands of subscribers' samples fastest (one list per subscriber
        grown by three values a sample, split here at C speed)."""
        found = cls(subscriber)
        try:
            found.times, found.bytes_in = array("q", rows[0::3]), array("Q", rows[1::3])
            found.bytes_out = array("Q", rows[2::3])
        except OverflowError:  # as in append
            found.times, found.bytes_in = list(rows[0::3]), list(rows[1::3])
            found.bytes_out = list(rows[2::3])
        return found

    def then(self, later: SampleColumns) -> SampleColumns:
        """These samples followed by `later`'s (all of them newer), as new columns."""
        found = SampleColumns(self.subscriber)
        for column in ("times", "bytes_in", "bytes_out"):
            mine, theirs = getattr(self, column), getattr(later, column)
            # Two arrays of a column have one type code; a column of plain integers (past
            # 64 bits) joins as a list.
            both = mine + theirs if type(mine) is type(theirs) else [*mine, *theirs]
            setattr(found, column, both)
        return found

    def append(self, time: int, bytes_in: int, bytes_out: int) -> None:
        """Add a sample no older than the last one."""
        try:
            self.bytes_in.append(bytes_in)
            self.bytes_out.append(bytes_out)
            self.times.append(time)
        except OverflowError:
            # A count beyond 64 bits (a hand-made record imported, say): plain integers.
            n = len(self.times)
            self.times = list(self.times)
            self.bytes_in, self.bytes_out = list(self.bytes_in[:n]), list(self.bytes_out[:n])
            self.append(time, bytes_in, bytes_out)

    def __len__(self) -> int:
        return len(self.times)

    @overload
    def __getitem__(self, index: int) -> Sample: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Sample]: ...

    def __getitem__(self, index: int | slice) -> Sample | Sequence[Sample]:
        if isinstance(index, slice):
            # Columns of the slice, not a list of it: a reader cuts a week into days.
            found = SampleColumns(self.subscriber)
            found.times, found.bytes_in = self.times[index], self.bytes_in[index]
            found.bytes_out = self.bytes_out[index]
            return found
        return Sample(self.subscriber, self.times[index], self.bytes_in[index],
                      self.bytes_out[index])  # fmt: skip

    def __iter__(self) -> Iterator[Sample]:
        return map(Sample, repeat(self.subscriber), self.times, self.bytes_in, self.bytes_out)

    def between(self, after: int, until: int | None = None) -> slice:
        """Where the samples with after < time (<= until) are, found by bisection: the
        columns are in time order."""
        start = bisect_right(self.times, after)
        return slice(start, None if until is None else bisect_right(self.times, until, start))

    def moved(self, direction: str, where: slice = _EVERY) -> Sequence[int]:
        """The bytes each sample at `where` moved in `direction` as a cap counts them
        (policy.used): "download" is bytes_in, "upload" bytes_out, "both" their sum."""
        if direction == "download":
            return self.bytes_in[where]
        if direction == "upload":
            return self.bytes_out[where]
        return list(map(add, self.bytes_in[where], self.bytes_out[where]))


@dataclass(frozen=True)
class FreeHours:
    """Off-peak hours whose usage does not count: local time from `start` to `end` minutes.

    `start` > `end` wraps past midnight (23:00-07:00).
    """

    start: int
    end: int
    timezone: str = "UTC"

    def contains(self, when: int) -> bool:
        minute = local_minute(self.timezone, when)
        if self.start <= self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def contains_each(self, times: Iterable[int]) -> list[bool]:
        """[contains(t) for t in times], without a call of it per time."""
        start, end = self.start, self.end
        minutes = local_minutes(self.timezone, times)
        if start <= end:
            return [start <= minute < end for minute in minutes]
        return [minute >= start or minute < end for minute in minutes]

    @property
    def key(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}@{self.timezone}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


REMEMBERED_MOMENTS = 16384
"""Moments whose local minute is kept, per zone: two months of 5-minute cycles, 2 MB."""
_MINUTES: dict[str, dict[int, int]] = {}


def local_minutes(timezone: str, times: Iterable[int]) -> list[int]:
    """The minute of the local day (0-1439) in `timezone` at each of `times`.

    Remembered for each moment, not for an hour or an offset: the samples of one cycle
    share their time across every subscriber (a report site asked 2.6 million times for
    2,016 moments), and a moment's local time is the zone's answer for that moment alone,
    whatever change of DST (at any minute, of any size) is near it. Looked up in a plain
    dict, at C speed; what is not there yet is worked out and kept (all forgotten past
    REMEMBERED_MOMENTS, so a daemon's months add nothing)."""
    times = times if isinstance(times, Sequence) else list(times)
    known = _MINUTES.get(timezone)
    if known is None:
        known = _MINUTES[timezone] = {}
    found = list(map(known.get, times))
    if None in found:
        if len(known) > REMEMBERED_MOMENTS:
            known.clear()
        for index, minute in enumerate(found):
            if minute is None:
                when = times[index]
                found[index] = known[when] = _minute_at(timezone, when)
    return found  # type: ignore[return-value]  # no None left


def local_minute(timezone: str, when: int) -> int:
    """local_minutes for one moment."""
    known = _MINUTES.get(timezone)
    minute = known.get(when) if known is not None else None
    return minute if minute is not None else local_minutes(timezone, (when,))[0]


def _minute_at(timezone: str, when: int) -> int:
    local = datetime.fromtimestamp(when, ZoneInfo(timezone))
    return local.hour * 60 + local.minute


@dataclass(frozen=True)
class Monthly:
    """A calendar period: from local midnight on `reset_day` of each month."""

    reset_day: int = 1
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        if not 1 <= self.reset_day <= 28:
            raise ValueError(f"a reset day must be 1 to 28, got {self.reset_day}")

    def start(self, when: int) -> int:
        """When the period containing `when` began."""
        zone = ZoneInfo(self.timezone)
        local = datetime.fromtimestamp(when, zone)
        year, month = local.year, local.month
        if local.day < self.reset_day:
            year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        return int(datetime(year, month, self.reset_day, tzinfo=zone).timestamp())

    @property
    def key(self) -> str:
        return f"monthly from day {self.reset_day}@{self.timezone}"


@dataclass(frozen=True)
class Tally:
    """A running total the ledger keeps for every subscriber: usage in the last `window`
    seconds, or since the start of the calendar `period` (monthly with a reset day).

    A sample at time t counts at time `now` when t > edge_at(now) and t is not in the free
    hours. The ledger keeps each tally incrementally, so its cost does not grow with history.
    """

    window: int
    free: FreeHours | None = field(default=None)
    period: Monthly | None = field(default=None)

    def __post_init__(self) -> None:
        if self.window <= 0:
            raise ValueError(f"a window must be positive, got {self.window}")

    def edge_at(self, now: int) -> int:
        """Samples after this count at `now`."""
        if self.period is not None:
            return self.period.start(now) - 1
        return now - self.window

    @property
    def key(self) -> str:
        base = self.period.key if self.period else format_duration(self.window)
        return f"{base} free {self.free.key}" if self.free else base

    def counts(self, when: int) -> bool:
        return self.free is None or not self.free.contains(when)

    def counts_each(self, times: Iterable[int]) -> list[bool]:
        """[counts(t) for t in times], without a call of it per time."""
        if self.free is None:
            return [True for _ in times]
        return [not free for free in self.free.contains_each(times)]


@dataclass(frozen=True, slots=True)
class Totals:
    bytes_in: int = 0
    bytes_out: int = 0
