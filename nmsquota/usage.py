"""Usage as every layer counts it: samples, totals, the windows they are tallied over
(rolling, monthly, with free hours), and the names subscribers go by. Pure values; the
ledger stores them, the poller produces them, the policy judges them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
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


@dataclass(frozen=True)
class FreeHours:
    """Off-peak hours whose usage does not count: local time from `start` to `end` minutes.

    `start` > `end` wraps past midnight (23:00-07:00).
    """

    start: int
    end: int
    timezone: str = "UTC"

    @cached_property
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def contains(self, when: int) -> bool:
        local = datetime.fromtimestamp(when, self._zone)
        minute = local.hour * 60 + local.minute
        if self.start <= self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    @property
    def key(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}@{self.timezone}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


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


@dataclass(frozen=True, slots=True)
class Totals:
    bytes_in: int = 0
    bytes_out: int = 0
