"""When to try again a device that keeps failing: pure, counted in cycles, no clock.

A device that fails a cycle or two is tried again at the next one: one lost answer is common
and costs little. From its third failure in a row it is skipped for 1 cycle, then 2, 4, 8,
and never more than MAX_SKIP cycles between two tries; one answer resets all of it. A dead or
unreachable device then costs the cycle a walk (up to its deadline, and a slot among the
walks in flight) only now and then instead of every time, so the devices that answer are
not slowed by it. Its bytes are not lost: its baselines stay, and the poll that answers
charges the whole gap (bounded, as every charge is, by the spike guard in counters.py).

Backoff is for a device that is dead or unreachable, not for one that answers too slowly
because the poller itself is saturated (issue 27: 40 walks sharing one core all reached
their deadline together). So a failed try counts only when it tells the device is not
answering (`counts`): its agent was silent (a timeout; or the deadline before it had read a
single row), or it answered wrongly (an error). A walk its deadline cut after the agent had
answered rows neither counts nor clears the failures in a row: the agent is alive, the next
try goes on from what this one read (poller.PollCut) and goes first in its cycle, as a
device skipped for load does. A device that is merely slow at every cycle is thus polled
every cycle and gets further each time, instead of being polled ever more rarely while its
bytes wait; one that falls silent part-way still counts, because silence is what a dying
agent looks like.

Every skipped cycle is reported for that device ("backing off"), never passed over in
silence. The state lives with the device in the daemon's memory: a restart or a reloaded
configuration (an operator who fixed the device's settings) starts it over, at try now.
"""

from __future__ import annotations

from dataclasses import dataclass

FAILURES_BEFORE_BACKOFF = 2
"""Failures in a row that are retried at the very next cycle."""
MAX_SKIP = 8
"""The most cycles skipped between two tries: with a 5-minute interval, a device that comes
back is polled again within 45 minutes. More would risk a 32-bit counter wrapping more than
once unseen on a busy port; 64-bit counters do not care."""


def counts(cause: str, rows_read: int) -> bool:
    """Whether a try that failed with this cause (walk.Cause), after reading `rows_read`
    rows, counts toward backoff: all but a deadline reached after the agent answered."""
    return not (cause == "deadline" and rows_read > 0)


def cycles_to_skip(failures: int) -> int:
    """How many cycles to skip after `failures` failed tries in a row: 0, 0, 1, 2, 4, 8, 8..."""
    beyond = failures - FAILURES_BEFORE_BACKOFF
    if beyond <= 0:
        return 0
    return min(MAX_SKIP, 1 << (beyond - 1))


@dataclass
class Backoff:
    """One device's failures in a row, and how many cycles it still sits out."""

    failures: int = 0
    waiting: int = 0
    """Cycles still to skip before the next try."""
    error: str = ""
    """Why its last try failed: said again in each skipped cycle's report."""

    def take_turn(self) -> bool:
        """Called once per cycle: whether to poll the device in it. False counts this
        cycle as one of those it sits out."""
        if self.waiting > 0:
            self.waiting -= 1
            return False
        return True

    def failed(self, error: str) -> None:
        self.failures += 1
        self.waiting = cycles_to_skip(self.failures)
        self.error = error

    def answered(self) -> None:
        self.failures, self.waiting, self.error = 0, 0, ""

    def skipped(self, device: str) -> str:
        """What a skipped cycle reports for the device."""
        then = "at the next cycle" if self.waiting == 0 else f"in {self.waiting + 1} cycles"
        return (
            f"{device}: backing off after {self.failures} failed polls in a row, tried again "
            f"{then} (last error: {self.error})"
        )
