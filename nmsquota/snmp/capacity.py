"""What this machine can poll: the CPU a device's poll costs, learned from the cycles run.

Pure: no SNMP, no clock. The poller decodes every varbind in this one process (pysnmp's BER
decoding is most of a walk's time, FIELD-NOTES), so walks in flight share one core and
slow each other down together: the cycle's scheduler (cycle.py) starts only as many as
this estimate says can finish within their deadline and the interval.

A cycle's CPU (time.process_time) is modelled as `per_device x devices + per_varbind x
varbinds`; the two costs are fitted to the last few cycles, so a machine that gets busier
or an agent that grows is followed within a few intervals.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from statistics import median

PRIOR_PER_VARBIND = 1 / 4_000
"""CPU seconds per varbind before any cycle is measured: a little slower than the ~5.5k
varbinds/s measured for pysnmp (FIELD-NOTES), so a cold start errs towards fewer walks."""
PRIORS_PER_VARBIND = {"pysnmp": PRIOR_PER_VARBIND, "netsnmp": 1 / 20_000}
"""The same by transport: Net-SNMP's decoder costs ~8 us a varbind where pysnmp's costs
~190, and the poll's own work on the rows ~20-40 us more (bench/RESULTS.md, issue 23). With
pysnmp's prior for all, a first cycle of 200 agents through Net-SNMP started 14 walks at a
time where it could have started 64, and took 117 s for 7 s of CPU."""
PRIOR_PER_DEVICE = 0.02
"""CPU seconds a device costs apart from its rows (a session, the scalars' GET)."""
PRIOR_VARBINDS = 501 * 8
"""A device never polled: a mid-size access server's first walk (rows x columns)."""
KEPT = 8
"""Cycles the fit looks back over."""
MIN_PACE = 0.05
"""The least share of a core the poll is taken to get, however busy the machine."""
MIN_PER_VARBIND = 1e-7
"""A varbind is never free: its cost stays above nothing whatever the fit says."""


@dataclass(frozen=True)
class Observation:
    """One cycle: how many devices answered, the varbinds they read, the CPU it took."""

    devices: int
    varbinds: int
    cpu: float


@dataclass
class Costs:
    """The cost of a device's poll on this machine, and each device's last size."""

    per_varbind: float = PRIOR_PER_VARBIND
    per_device: float = PRIOR_PER_DEVICE
    varbinds: dict[str, int] = field(default_factory=dict)
    """Device -> varbinds its next poll reads (the counters and watched names, each row)."""
    full: dict[str, int] = field(default_factory=dict)
    """Device -> varbinds a whole walk of it reads (its first poll, or after a failure):
    several times more, since every identity column is walked too."""
    seen: deque[Observation] = field(default_factory=lambda: deque(maxlen=KEPT))
    pace: float = 1.0
    """CPU seconds the poll gets per second: 1 on an idle machine (the poll runs on one
    core), less where other processes keep the cores busy. A cost in CPU takes cost / pace
    seconds."""

    def assume(self, transports: Iterable[str]) -> None:
        """Before any cycle is measured, take the cost of a varbind to be that of the
        dearest of these transports (an unknown one: pysnmp's)."""
        if not self.measured:
            priors = [PRIORS_PER_VARBIND.get(t, PRIOR_PER_VARBIND) for t in transports]
            self.per_varbind = max(priors, default=PRIOR_PER_VARBIND)

    def paced(self, cpu: float, idle: float, seconds: float) -> None:
        """A cycle's poll took `cpu` seconds of CPU in `seconds`, while the machine's cores
        stood idle for `idle` core-seconds. Idle cores would have been the poll's for the
        asking (a poll waiting on slow agents is not a busy machine); without them, the
        poll got only the CPU it took."""
        if seconds > 0:
            self.pace = min(1.0, max(MIN_PACE, (cpu + idle) / seconds))

    @property
    def measured(self) -> bool:
        """Whether any cycle has been measured (else the costs are the priors)."""
        return bool(self.seen)

    def size(self, device: str, whole: bool = False) -> int:
        """The varbinds `device`'s next poll reads (`whole`: a whole walk of it): its own
        last, or the typical device's."""
        if whole:
            return self.full.get(device, _median(self.full.values(), PRIOR_VARBINDS))
        return self.varbinds.get(device, self.typical)

    @property
    def typical(self) -> int:
        """The typical device's poll, once walked: what the capacity is counted in."""
        return _median(self.varbinds.values(), _median(self.full.values(), PRIOR_VARBINDS))

    def cost(self, device: str, whole: bool = False) -> float:
        """CPU seconds `device`'s next poll is expected to take."""
        return self.per_device + self.per_varbind * self.size(device, whole)

    def sized(self, device: str, varbinds: int, full: int | None = None) -> None:
        """`device` answered: its next poll reads `varbinds`, a whole walk `full`."""
        self.varbinds[device] = varbinds
        if full is not None:
            self.full[device] = full

    def learn(self, observation: Observation) -> None:
        """Take one cycle's measurement and refit both costs to the cycles kept."""
        if observation.devices <= 0 or observation.cpu <= 0:
            return  # nothing answered: nothing to learn the cost of a poll from
        self.seen.append(observation)
        self.per_device, self.per_varbind = fit(self.seen, self.per_device, self.per_varbind)

    def fits(self, seconds: float, varbinds: int | None = None) -> int:
        """How many devices of this size (the typical one's by default) `seconds` can
        poll, at the measured cost and pace."""
        one = self.per_device + self.per_varbind * (varbinds or self.typical)
        return int(seconds * self.pace / one) if one > 0 else 0


def _median(values: Iterable[int], otherwise: int) -> int:
    found = list(values)
    return int(median(found)) if found else otherwise


def fit(seen: Iterable[Observation], per_device: float, per_varbind: float) -> tuple[float, float]:
    """(per_device, per_varbind) explaining the cycles seen, by least squares with neither
    negative. Cycles that cannot tell the two apart (all with the same varbinds per device)
    keep the current split between them and scale both to the CPU measured."""
    seen = list(seen)
    nn = sum(o.devices * o.devices for o in seen)
    nv = sum(o.devices * o.varbinds for o in seen)
    vv = sum(o.varbinds * o.varbinds for o in seen)
    nc = sum(o.devices * o.cpu for o in seen)
    vc = sum(o.varbinds * o.cpu for o in seen)
    det = nn * vv - nv * nv
    # Relative to its terms, a tiny determinant means the cycles' shapes barely differ.
    if det > 1e-6 * nn * vv:
        a = (nc * vv - vc * nv) / det
        b = (vc * nn - nc * nv) / det
        if a >= 0 and b > 0:
            return a, b
        if a < 0:  # all of it per varbind
            return 0.0, vc / vv
        return nc / nn, MIN_PER_VARBIND  # all of it per device
    expected = sum(per_device * o.devices + per_varbind * o.varbinds for o in seen)
    scale = sum(o.cpu for o in seen) / expected if expected > 0 else 1.0
    return per_device * scale, per_varbind * scale
