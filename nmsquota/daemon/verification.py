"""The daemon's side of verify: which limits were in place for the whole span since the
last cycle, what those subscribers moved, and what to log of the verdicts."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from nmsquota import units
from nmsquota.config import Verify
from nmsquota.policy import Evaluation
from nmsquota.usage import Totals
from nmsquota.verify import Check, verify

log = logging.getLogger("nmsquota.daemon")


def check_limits(checks: Mapping[str, Check], settings: Verify, evaluation: Evaluation,
                 moved: Mapping[str, Totals], previous: float | None,
                 now: float) -> tuple[dict[str, Check], list[str]]:  # fmt: skip
    """Measure each limited subscriber's download over the span since the last cycle, if
    their limit was in place for all of it, and flag the limits that do not bite. Returns the
    new checks and the subscribers flagged now, to be told once the cycle is written."""
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
    span = now - previous if previous is not None else 0.0
    measured = {name: (moved[name].bytes_in, span) for name in whole if name in moved}
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
