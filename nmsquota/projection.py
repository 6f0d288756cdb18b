"""Projected crossings: when to look at a subscriber again before the next cycle.

With a fixed poll, a subscriber on a fast line overshoots the cap by up to one interval of
line rate (at 100 Mbit/s and 5 minutes, 3.75 GB). A subscriber whose rate over the last
interval would carry them past the cap before the next cycle is polled again, alone, a
little before the moment the rate says they cross; a look that finds them still under
times the next one from the new rate, closing in on the crossing. Pure: the daemon does
the polling.

Two limits on when a look is worth making:
- not sooner than MIN_GAP after the last read of the subscriber's counters: the agent
  serves them from a cache, and a look inside it shows nothing new;
- not later than `min_lead(interval)` before the next cycle: a look saves the overshoot
  between it and the cycle, and that has to be worth its GET and its ledger write. At a
  10 s interval, with the crossing projected 3 s after the cycle, a look at 3.5 s saves
  6.5 s of line rate; the rule before this one dropped every look due within 5 s of the
  next cycle, which at 10 s left none but the one at exactly 5 s.
"""

from __future__ import annotations

AGENT_REFRESH = 3.0
"""Seconds between refreshes of the counters an agent serves. Net-SNMP 5.9.3 refreshes its
ifTable/ifXTable cache by itself every 3 s (nsCacheTimeout of ifTable, and measured: two
GETs 2.8 s or more apart always saw new counters, 0.5 s apart one time in six), whoever
asks: a read sees counters 0 to 3 s old."""

MIN_GAP = AGENT_REFRESH + 0.5
"""Seconds between two reads of one subscriber, at least: one refresh of the agent's cache
falls between them for sure, with half a second for the reads themselves and the timers."""

LOOK_SECONDS = 1.0
"""How long a look may take to land: one GET, one ledger write, the policy and the drivers
(0.02 to 0.2 s measured in namespaces; the rest is for a busy machine). A look still running
when the cycle is due saves nothing and makes the cycle wait."""

MIN_LEAD_SHARE = 1 / 30
"""The least share of an interval a look must save to be worth its GET and ledger write:
10 s at a 5-minute interval. At short intervals LOOK_SECONDS is the larger."""

HEADROOM = 1.5
"""Rates move: a look is timed for a rate this much above the last one seen, so it comes
early rather than late, and each look re-times the next from the bytes left (a third as
many each time at a steady rate)."""


def min_lead(interval: float, look_seconds: float = LOOK_SECONDS) -> float:
    """Seconds before the next cycle a look must fall to be made: it must land before the
    cycle starts, and save a material share of the overshoot the cycle would let through."""
    return max(look_seconds, interval * MIN_LEAD_SHARE)


def next_look(
    used: int,
    cap: int,
    rate: float,
    now: float,
    next_cycle: float,
    lead: float,
    min_gap: float = MIN_GAP,
    headroom: float = HEADROOM,
) -> float | None:
    """When to poll this subscriber before `next_cycle`, or None if the cycle will do.

    `rate` is bytes per second since their counters were last read, at `now` (in the
    direction the plan counts); `lead` is min_lead(interval).
    """
    if used >= cap or rate <= 0:
        return None
    crossing = now + (cap - used) / (rate * headroom)
    when = max(now + min_gap, crossing)
    return when if when <= next_cycle - lead else None
