"""Counter arithmetic: two readings of an interface's octet counters in, a charge out.

Pure: no SNMP, no clock, no I/O. The rules, each from a way real billing has gone wrong:

- Counters wrap at 2**32 or 2**64; the difference is taken modulo the width.
- An agent restart (sysUpTime went backwards, or snmpEngineBoots changed) or a counter
  discontinuity (ifCounterDiscontinuityTime changed) charges nothing for that interval and
  starts a new baseline: never a negative or a huge charge.
- A difference larger than the interface could have carried in the elapsed time is discarded
  and reported (the billing spike LibreNMS users complain of most). The line rate is the
  per-device override for agents that report a wrong speed, else the reported one (ifHighSpeed,
  or ifSpeed), else, where the agent reports 0 or nothing (radio ports, PPP), a ceiling.
  The elapsed time is the shorter of what the poller's own clock saw pass between the two
  readings and what the agent's sysUpTime says: an agent whose clock races (or lies) cannot
  stretch the bound, and neither can a poller that stalled. A small allowance
  (RATE_ALLOWANCE, SKEW_SECONDS) covers what makes an honest charge look slightly fast.
- A failed or non-numeric read is never a zero reading: the baseline stays, and the next good
  reading is charged over the longer interval, as a missed poll is.
- Switching between 32- and 64-bit counters starts a new baseline.
- An interface that is down or dormant but present keeps its baseline and is charged nothing
  while its counters stand still; it is reported, not dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

UPTIME_MODULUS = 2**32  # sysUpTime is TimeTicks: 32-bit hundredths of a second (497 days)
OPER_UP = 1
# Without a usable interface speed, no interface moves more than this (bit/s); a "wrap" that
# implies more is a reset in disguise.
DEFAULT_CEILING_BPS = 100 * 10**9
SLACK_SECONDS = 10.0
"""How far sysUpTime may disagree with the poller's clock before it means a restart."""
RATE_ALLOWANCE = 0.05
"""A charge may exceed line rate x elapsed by a few percent: the agent's and the poller's
clocks tick at slightly different rates (a VM's clock, a loaded poller), and a nominal speed
is rounded (ifHighSpeed counts whole Mbit/s)."""
SKEW_SECONDS = 7.0
"""... plus this much time at line rate: two readings of a row are not exactly as far apart
as the cycles that asked for them. Each is taken some way into its poll (the round-trip of
the requests before it: about 2 s for a large table), and agents serve counters from a cache
(snmpd refreshes it about every 5 s, FIELD-NOTES), so a reading may lag its request."""


class Verdict(Enum):
    CHARGED = "charged"
    BASELINE = "baseline"  # first reading, or a new one after a change of counter width
    MISSING = "missing"  # the read failed; the baseline is kept
    RESTART = "restart"  # the agent restarted: nothing charged, new baseline
    DISCONTINUITY = "discontinuity"
    SPIKE = "spike"  # more than the line could carry: discarded, new baseline
    DOWN = "down"  # not up and not moving: nothing charged, baseline kept


@dataclass(frozen=True, slots=True)
class Reading:
    """One poll of one interface. `octets_in`/`octets_out` are None when the read failed."""

    time: float
    octets_in: int | None
    octets_out: int | None
    width: int = 64
    uptime: int | None = None
    boots: int | None = None
    discontinuity: int | None = None
    speed_bps: int | None = None
    oper_status: int | None = OPER_UP

    @property
    def complete(self) -> bool:
        return isinstance(self.octets_in, int) and isinstance(self.octets_out, int)


@dataclass(frozen=True, slots=True)
class Charge:
    """What one interval costs the subscriber, and why."""

    bytes_in: int
    bytes_out: int
    verdict: Verdict
    note: str = ""
    seconds: float | None = field(default=None, compare=False)
    """How long the charged interval was, on the clock the counters were sampled on: the
    agent's sysUpTime where both readings have it, else the poller's. A rate is these bytes
    over these seconds (verify); not part of what is charged, so not compared."""


NOTHING = (0, 0)


def charge(
    previous: Reading | None,
    current: Reading,
    *,
    speed_override_bps: int | None = None,
    ceiling_bps: int = DEFAULT_CEILING_BPS,
) -> tuple[Charge, Reading | None]:
    """The charge for the interval from `previous` to `current`, and the next baseline."""
    if not current.complete:
        return Charge(*NOTHING, Verdict.MISSING, "read failed; baseline kept"), previous
    if previous is None or not previous.complete:
        return Charge(*NOTHING, Verdict.BASELINE, "first reading"), current
    if current.width != previous.width:
        note = f"counters changed from {previous.width}-bit to {current.width}-bit"
        return Charge(*NOTHING, Verdict.BASELINE, note), current
    restart = _restart(previous, current)
    if restart:
        return Charge(*NOTHING, Verdict.RESTART, restart), current
    if previous.discontinuity != current.discontinuity and current.discontinuity is not None:
        note = f"ifCounterDiscontinuityTime {previous.discontinuity} -> {current.discontinuity}"
        return Charge(*NOTHING, Verdict.DISCONTINUITY, note), current

    modulus = 2**current.width
    assert previous.octets_in is not None and previous.octets_out is not None
    assert current.octets_in is not None and current.octets_out is not None
    bytes_in = (current.octets_in - previous.octets_in) % modulus
    bytes_out = (current.octets_out - previous.octets_out) % modulus
    if bytes_in == 0 and bytes_out == 0 and current.oper_status != OPER_UP:
        return Charge(*NOTHING, Verdict.DOWN, f"ifOperStatus {current.oper_status}"), previous

    limit = most_bytes(previous, current, speed_override_bps, ceiling_bps)
    if max(bytes_in, bytes_out) > limit:
        rate = line_rate_bps(previous, current, speed_override_bps, ceiling_bps)
        note = (
            f"{max(bytes_in, bytes_out)} bytes in {elapsed_seconds(previous, current):.0f}s is "
            f"more than the line carries ({limit} at most at {rate} bit/s); discarded"
        )
        return Charge(*NOTHING, Verdict.SPIKE, note), current
    return Charge(bytes_in, bytes_out, Verdict.CHARGED, seconds=_span(previous, current)), current


def _restart(previous: Reading, current: Reading) -> str:
    if previous.boots is not None and current.boots is not None and previous.boots != current.boots:
        return f"snmpEngineBoots {previous.boots} -> {current.boots}"
    if previous.uptime is None or current.uptime is None:
        return ""
    elapsed = current.time - previous.time
    # Ticks advanced modulo 2**32 matching the time that passed: no restart, even when
    # sysUpTime wrapped after 497 days.
    advanced = (current.uptime - previous.uptime) % UPTIME_MODULUS / 100
    if abs(advanced - elapsed) <= max(SLACK_SECONDS, 0.1 * elapsed):
        return ""
    if current.uptime < previous.uptime:
        return f"sysUpTime went back from {previous.uptime} to {current.uptime}"
    if current.uptime / 100 + SLACK_SECONDS < elapsed:
        # Up for less time than has passed since the last poll: it restarted in between.
        return f"sysUpTime {current.uptime} is shorter than the {elapsed:.0f}s since the last poll"
    return ""


def line_rate_bps(
    previous: Reading, current: Reading, override_bps: int | None, ceiling_bps: int
) -> int:
    """The most the interface carries, bits per second. A speed of 0 reads as unknown
    (tables.py): radio and PPP interfaces report 0, and refusing all their traffic would be
    worse than bounding it by the ceiling; the per-device override is the precise answer."""
    return override_bps or current.speed_bps or previous.speed_bps or ceiling_bps


def agent_seconds(previous: Reading, current: Reading) -> float | None:
    """How far the agent's sysUpTime moved between two readings (modulo its 497-day wrap),
    or None when either lacks it."""
    if previous.uptime is None or current.uptime is None:
        return None
    return (current.uptime - previous.uptime) % UPTIME_MODULUS / 100


def _span(previous: Reading, current: Reading) -> float:
    # The agent samples the counters, so its clock is theirs; the poller's times are when
    # the cycles began, which lateness and clock steps move apart from the samples.
    agent = agent_seconds(previous, current)
    return agent if agent is not None else max(current.time - previous.time, 0.0)


def elapsed_seconds(previous: Reading, current: Reading) -> float:
    """The time both clocks agree passed between two readings: the poller's own, or the
    agent's sysUpTime gap where that is shorter. A poller clock stepped back (NTP) saw no
    time pass that it can vouch for; the agent's gap is then the only measure."""
    poller = current.time - previous.time
    agent = agent_seconds(previous, current)
    if agent is None:
        return max(poller, 0.0)
    return agent if poller < 0 else min(poller, agent)


def most_bytes(
    previous: Reading, current: Reading, override_bps: int | None, ceiling_bps: int
) -> int:
    """The largest difference the line could have carried between two readings, with the
    allowance for how readings are taken."""
    rate = line_rate_bps(previous, current, override_bps, ceiling_bps)
    seconds = elapsed_seconds(previous, current) * (1 + RATE_ALLOWANCE) + SKEW_SECONDS
    return int(rate / 8 * seconds)
