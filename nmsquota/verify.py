"""Limits that are proven to bite: after a limit lands, the poller's own counters say
whether the subscriber's download really fell to the limited rate.

A limit the driver acknowledged can still do nothing: a rule on the wrong interface,
MikroTik FastTrack carrying the traffic past the queues, a NAS that accepted a CoA and
ignored it. Over the cycles after a limit is in place, a subscriber whose measured rate
stays above the limited rate by more than the margin (for the queue draining and for the
headers the interface counters include) for `cycles` cycles in a row is flagged "limit not
effective", with the measured and expected rates; the flag clears after a cycle measured
within the margin.

Pure: the last cycle's checks, this cycle's measurements and limits in; the new checks and
what changed out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Check:
    """Where one limited subscriber stands."""

    over: int = 0
    """Cycles in a row measured above the allowed rate."""
    flagged: bool = False
    measured_bps: int = 0
    """The last measured download rate, bits per second."""
    expected_bps: int = 0
    """The limited rate; at most this plus the margin is allowed."""
    since: int | None = None
    """When it was flagged."""


@dataclass
class Verdicts:
    checks: dict[str, Check] = field(default_factory=dict)
    flagged: list[str] = field(default_factory=list)
    """Newly flagged in this cycle: log and notify these once."""
    cleared: list[str] = field(default_factory=list)


def verify(
    previous: Mapping[str, Check],
    limits: Mapping[str, int],
    measured: Mapping[str, tuple[int, float]],
    now: int,
    margin: float = 0.25,
    cycles: int = 2,
) -> Verdicts:
    """`limits`: every limited subscriber -> limited rate (bits/s); `measured`: subscriber ->
    (bytes downloaded, seconds), only over a span their limit was in place for all of. A
    limited subscriber without a measurement (offline, or just limited) keeps the check
    they had; one no longer limited loses theirs."""
    result = Verdicts()
    for name, rate in limits.items():
        before = previous.get(name, Check())
        if name not in measured:
            result.checks[name] = before
            continue
        octets, seconds = measured[name]
        if seconds <= 0:
            result.checks[name] = before
            continue
        bps = int(8 * octets / seconds)
        if bps > rate * (1 + margin):
            over = before.over + 1
            flagged = before.flagged or over >= cycles
            since = before.since if before.flagged else (now if flagged else None)
            if flagged and not before.flagged:
                result.flagged.append(name)
        else:
            over, flagged, since = 0, False, None
            if before.flagged:
                result.cleared.append(name)
        result.checks[name] = Check(over, flagged, bps, rate, since)
    return result
