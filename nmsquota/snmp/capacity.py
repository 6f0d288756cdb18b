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
PRIOR_PER_DEVICE = 0.02
"""CPU seconds a device costs apart from its rows (a session, the scalars' GET)."""
PRIOR_VARBINDS = 501 * 8
"""A device never polled: a mid-size access server's first walk (rows x columns)."""
KEPT = 8
"""Cycles the fit looks back over."""
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
    """Device -> varbinds its last answered poll read (what its next one will read)."""
    seen: deque[Observation] = field(default_factory=lambda: deque(maxlen=KEPT))

    @property
    def measured(self) -> bool:
        """Whether any cycle has been measured (else the costs are the priors)."""
        return bool(self.seen)

    def size(self, device: str) -> int:
        """The varbinds `device`'s next poll reads: its last, or the typical device's."""
        return self.varbinds.get(device, self.typical)

    @property
    def typical(self) -> int:
        return int(median(self.varbinds.values())) if self.varbinds else PRIOR_VARBINDS

    def cost(self, device: str) -> float:
        """CPU seconds `device`'s next poll is expected to take."""
        return self.per_device + self.per_varbind * self.size(device)

    def sized(self, device: str, varbinds: int) -> None:
        """`device` answered, reading this many varbinds."""
        self.varbinds[device] = varbinds

    def learn(self, observation: Observation) -> None:
        """Take one cycle's measurement and refit both costs to the cycles kept."""
        if observation.devices <= 0 or observation.cpu <= 0:
            return  # nothing answered: nothing to learn the cost of a poll from
        self.seen.append(observation)
        self.per_device, self.per_varbind = fit(self.seen, self.per_device, self.per_varbind)

    def fits(self, seconds: float, varbinds: int | None = None) -> int:
        """How many devices of this size (the typical one's by default) `seconds` of CPU
        can poll, at the measured cost."""
        one = self.per_device + self.per_varbind * (varbinds or self.typical)
        return int(seconds / one) if one > 0 else 0


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
