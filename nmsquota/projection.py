"""Projected crossings: when to look at a subscriber again before the next cycle.

With a fixed poll, a subscriber on a fast line overshoots the cap by up to one interval of
line rate (at 100 Mbit/s and 5 minutes, 3.75 GB). A subscriber whose rate over the last
interval would carry them past the cap before the next cycle is polled again, alone, a
little before the moment the rate says they cross; a look that finds them still under
times the next one from the new rate, closing in on the crossing. Pure: the daemon does
the polling.
"""

from __future__ import annotations

MIN_GAP = 5.0
"""Seconds between two looks at one subscriber, at least: agents cache their counters for a
few seconds (Net-SNMP about 5), so looking sooner shows nothing new."""


HEADROOM = 1.5
"""Rates move: a look is timed for a rate this much above the last one seen, so it comes
early rather than late, and each look re-times the next from the bytes left (a third as
many each time at a steady rate)."""


def next_look(
    used: int,
    cap: int,
    rate: float,
    now: float,
    next_cycle: float,
    min_gap: float = MIN_GAP,
    headroom: float = HEADROOM,
) -> float | None:
    """When to poll this subscriber before `next_cycle`, or None if the cycle will do.

    `rate` is bytes per second over the last interval (in the direction the plan counts).
    """
    if used >= cap or rate <= 0:
        return None
    crossing = now + (cap - used) / (rate * headroom)
    if crossing >= next_cycle - min_gap:
        return None
    return max(now + min_gap, crossing)
