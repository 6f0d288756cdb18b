"""The injectable clock: everything that reads the time takes one of these.

Tests and the demo run days of simulated time in seconds by handing the same code a
ManualClock or an AcceleratedClock instead of the system clock.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of this clock's time."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """Time that moves only when told to; sleeping advances it at once."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def set(self, when: float) -> None:
        """Jump to `when`, backwards too (a clock step from NTP, a wrong RTC)."""
        self._now = float(when)

    def advance(self, seconds: float) -> None:
        self._now += seconds

    async def sleep(self, seconds: float) -> None:
        self._now += max(0.0, seconds)
        await asyncio.sleep(0)


class AcceleratedClock:
    """Simulated time running `factor` times faster than the wall clock from `start`.

    Made with `running=False`, it holds at `start` until `run()`: a demo's setting up and its
    first cycle (the SNMP engine, the first walk, a third of a second) would otherwise take
    20 simulated minutes at 3600x, making the first decisions late and skipping cycles."""

    def __init__(
        self, start: float, factor: float, wall: Clock | None = None, *, running: bool = True
    ) -> None:
        if factor <= 0:
            raise ValueError(f"acceleration factor must be positive, got {factor}")
        self._wall = wall or SystemClock()
        self._start = start
        self._factor = factor
        self._wall_start: float | None = self._wall.now() if running else None

    def run(self) -> None:
        """Start simulated time from `start`, now (once; a running clock is left alone)."""
        if self._wall_start is None:
            self._wall_start = self._wall.now()

    def now(self) -> float:
        if self._wall_start is None:
            return self._start
        return self._start + (self._wall.now() - self._wall_start) * self._factor

    async def sleep(self, seconds: float) -> None:
        await self._wall.sleep(max(0.0, seconds) / self._factor)
