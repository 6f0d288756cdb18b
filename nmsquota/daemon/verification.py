"""The daemon's side of verify: which limits were in place for the whole span since the
last cycle, what those subscribers moved, and what to log of the verdicts."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from nmsquota import units
from nmsquota.config import Verify
from nmsquota.policy import Evaluation
from nmsquota.snmp.cycle import DeviceResult
from nmsquota.usage import Totals
from nmsquota.verify import Check, verify

log = logging.getLogger("nmsquota.daemon")


def check_limits(checks: Mapping[str, Check], settings: Verify, evaluation: Evaluation,
                 moved: Mapping[str, Totals], spans: Mapping[str, float],
                 previous: float | None,
                 now: float) -> tuple[dict[str, Check], list[str]]:  # fmt: skip
    """Measure each limited subscriber's download over the span since the last cycle, if
    their limit was in place for all of it, and flag the limits that do not bite. Returns the
    new checks and the subscribers flagged now, to be told once the cycle is written.

    `spans` (spans_of) are how long each subscriber's charged intervals were on the clock
    their counters were sampled on, the agent's sysUpTime: bytes sampled on one clock over
    seconds of another (the daemon's cycle starts, which lateness, a look in between or a
    clock step move apart from the samples) measured 13.9 Mbit/s on a 12 Mbit/s link."""
    if not settings.enabled:
        return {}, []
    limits = {d.subscriber: d.rate_bps for d in evaluation.limited}
    # Measured only where the limit was in place for the whole span (not limited by a
    # look since the last cycle, not the first cycle after a start).
    whole = {
        d.subscriber
        for d in evaluation.limited
        if previous is not None and d.since is not None and d.since <= previous
    }
    measured = {name: (moved[name].bytes_in, spans[name])
                for name in whole if name in moved and name in spans}  # fmt: skip
    verdicts = verify(checks, limits, measured, int(now), settings.margin / 100,
                      settings.cycles)  # fmt: skip
    for name in verdicts.flagged:
        check = verdicts.checks[name]
        rate = units.format_measured_rate(check.measured_bps)
        log.warning("limit not effective on %s: measured %s for %d cycles, expected at most "
                    "%s + %g%%", name, rate, check.over,
                    units.format_rate(check.expected_bps), settings.margin)  # fmt: skip
    for name in verdicts.cleared:
        log.info("limit on %s effective again: measured %s", name,
                 units.format_measured_rate(verdicts.checks[name].measured_bps))  # fmt: skip
    # A released subscriber's check goes with the limit.
    return verdicts.checks, list(verdicts.flagged)


def spans_of(results: Iterable[DeviceResult]) -> dict[str, float]:
    """Per subscriber, how long the intervals a cycle charged them for were on the agents'
    clocks: the longest, where they are on several access servers (a rate that errs low,
    never a false flag)."""
    spans: dict[str, float] = {}
    for result in results:
        if result.attribution is not None:
            for name, seconds in result.attribution.spans.items():
                spans[name] = max(spans.get(name, 0.0), seconds)
    return spans
