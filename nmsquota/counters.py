"""Counter arithmetic: two readings of an interface's octet counters in, a charge out.

Pure: no SNMP, no clock, no I/O. The rules, each from a way real billing has gone wrong:

- Counters wrap at 2**32 or 2**64; the difference is taken modulo the width.
- An agent restart (sysUpTime went backwards, or snmpEngineBoots changed) or a counter
  discontinuity (ifCounterDiscontinuityTime changed) charges nothing for that interval and
  starts a new baseline: never a negative or a huge charge.
- A difference larger than the interface could have carried in the elapsed time is discarded
  and reported (the billing spike LibreNMS users complain of most), using the reported speed,
  a per-device override for agents that report a wrong one, or a ceiling when neither exists.
- A failed or non-numeric read is never a zero reading: the baseline stays, and the next good
  reading is charged over the longer interval, as a missed poll is.
- Switching between 32- and 64-bit counters starts a new baseline.
- An interface that is down or dormant but present keeps its baseline and is charged nothing
  while its counters stand still; it is reported, not dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

UPTIME_MODULUS = 2**32  # sysUpTime is TimeTicks: 32-bit hundredths of a second (497 days)
OPER_UP = 1
# Without a usable interface speed, no interface moves more than this (bit/s); a "wrap" that
# implies more is a reset in disguise.
DEFAULT_CEILING_BPS = 100 * 10**9
# Polls are not instantaneous and agents cache counters (snmpd: about 5 s), so a burst can
# land in a shorter interval than it ran in.
SPEED_TOLERANCE = 1.5
SLACK_SECONDS = 10.0


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

    limit = _most_bytes(previous, current, speed_override_bps, ceiling_bps)
    if max(bytes_in, bytes_out) > limit:
        note = (
            f"{max(bytes_in, bytes_out)} bytes in {current.time - previous.time:.0f}s is more "
            f"than the line carries ({limit} at most); discarded"
        )
        return Charge(*NOTHING, Verdict.SPIKE, note), current
    return Charge(bytes_in, bytes_out, Verdict.CHARGED), current


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


def _most_bytes(
    previous: Reading, current: Reading, override_bps: int | None, ceiling_bps: int
) -> int:
    speed = override_bps or current.speed_bps or previous.speed_bps or ceiling_bps
    elapsed = max(current.time - previous.time, 0.0)
    if previous.uptime is not None and current.uptime is not None:
        elapsed = max(elapsed, (current.uptime - previous.uptime) % UPTIME_MODULUS / 100)
    return int(speed / 8 * (elapsed * SPEED_TOLERANCE + SLACK_SECONDS))
