"""Projected crossings: when to look at a subscriber again before the next cycle.

With a fixed poll, a subscriber on a fast line overshoots the cap by up to one interval of
line rate (at 100 Mbit/s and 5 minutes, 3.75 GB). A subscriber whose rate over the last
interval would carry them past the cap before the next cycle is polled again, alone, at
the moment the rate says they cross; a poll that finds them still under re-projects from
the new rate. Pure: the daemon does the polling.
"""

from __future__ import annotations

MIN_GAP = 5.0
"""Seconds between two looks at one subscriber, at least: agents cache their counters for a
few seconds (Net-SNMP about 5), so looking sooner shows nothing new."""


def next_look(
    used: int, cap: int, rate: float, now: float, next_cycle: float, min_gap: float = MIN_GAP
) -> float | None:
    """When to poll this subscriber before `next_cycle`, or None if the cycle will do.

    `rate` is bytes per second over the last interval (in the direction the plan counts).
    """
    if used >= cap or rate <= 0:
        return None
    crossing = now + (cap - used) / rate
    if crossing >= next_cycle - min_gap:
        return None
    return max(now + min_gap, crossing)
