"""What the walker has learned about one agent's quirks, kept for as long as its Agent is.

Mature pollers handle a misbehaving agent per device: LibreNMS has a per-device max-repeaters
setting and turns GETBULK off per device or OS, Net-SNMP's snmpbulkwalk takes -Cr and its
snmpwalk refuses non-increasing OIDs unless told -Cc, Prometheus' snmp_exporter has
max_repetitions and allow_nonincreasing_oids in its walk parameters. Here the configuration
gives the starting point (`max_repetitions`, `bulk`) and this records what a walk found out,
so that the next cycle does not pay again for the timeouts that taught it, and an operator
is told once, not every cycle.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger("nmsquota.snmp")


@dataclass
class Learned:
    """One agent's quirks found so far. Forgotten when the configuration is loaded again."""

    getnext_only: bool = False
    """Its GETBULK failed where GETNEXT worked: walk it with GETNEXT."""
    max_repetitions: int | None = None
    """The most repetitions it answered after refusing more (tooBig, or silence)."""
    told: set[str] = field(default_factory=set)

    def warn_once(self, topic: str, message: str) -> None:
        """Log `message` the first time `topic` comes up for this agent, and never again."""
        if topic not in self.told:
            self.told.add(topic)
            log.warning("%s", message)
