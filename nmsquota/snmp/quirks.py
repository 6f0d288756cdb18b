"""What the walker has learned about one agent's quirks, kept for as long as its Agent is.

Mature pollers handle a misbehaving agent per device: LibreNMS has a per-device max-repeaters
setting and turns GETBULK off per device or OS, Net-SNMP's snmpbulkwalk takes -Cr and its
snmpwalk refuses non-increasing OIDs unless told -Cc, Prometheus' snmp_exporter has
max_repetitions and allow_nonincreasing_oids in its walk parameters. Here the configuration
gives the starting point (`max_repetitions`, `bulk`) and this records what a walk found out,
so that the next cycle does not pay again for the timeouts that taught it, and an operator
is told once, not every cycle.

A smaller GETBULK is remembered at once when the agent refused the larger (tooBig), but
not when the larger one merely went unanswered: under load (issue 27) the poller itself
is too slow to take an answer in time, and remembering that as the agent's limit made every
later walk of the device ask for fewer rows, so send more requests and cost more CPU, which
made the load worse. A silence holds for the rest of that poll only, and is remembered once
it came back in SILENT_POLLS polls in a row (no poll in between answering the larger size).
An agent that really loses large answers (IP fragments dropped) pays its timeouts once more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger("nmsquota.snmp")

SILENT_POLLS = 2
"""Polls in a row in which a larger GETBULK goes unanswered while a smaller one is answered,
before the smaller is remembered as the most this agent answers."""


@dataclass
class Learned:
    """One agent's quirks found so far. Forgotten when the configuration is loaded again."""

    getnext_only: bool = False
    """Its GETBULK failed where GETNEXT worked: walk it with GETNEXT."""
    max_repetitions: int | None = None
    """The most repetitions it answered after refusing more: at once after a tooBig, after
    SILENT_POLLS polls after a silence."""
    silent_polls: int = 0
    """Polls in a row in which a larger GETBULK went unanswered and a smaller was answered,
    not yet remembered."""
    unanswered: int | None = None
    """The repetitions the last of those polls left unanswered."""
    told: set[str] = field(default_factory=set)

    def answered_fewer(self, answered: int, unanswered: int, *, refused: bool, again: bool
                       ) -> bool:  # fmt: skip
        """A GETBULK of `answered` repetitions was answered after one of `unanswered` was
        refused with tooBig (`refused`) or went unanswered. `again`: this poll already had
        one (a poll counts once). True when `answered` is now remembered for the agent."""
        if not refused:
            self.silent_polls += 0 if again else 1
            self.unanswered = unanswered
        if refused or self.silent_polls >= SILENT_POLLS:
            self.max_repetitions = min(answered, self.max_repetitions or answered)
            self.silent_polls, self.unanswered = 0, None
            return True
        return False

    def answered_at(self, repetitions: int) -> None:
        """A GETBULK of `repetitions` was answered at the first try. If as many went
        unanswered in an earlier poll, that silence was not the agent's limit (the poller's
        load, a lost packet): the count of silent polls starts over."""
        if self.unanswered is not None and repetitions >= self.unanswered:
            self.silent_polls, self.unanswered = 0, None

    def warn_once(self, topic: str, message: str) -> None:
        """Log `message` the first time `topic` comes up for this agent, and never again."""
        if topic not in self.told:
            self.told.add(topic)
            log.warning("%s", message)
