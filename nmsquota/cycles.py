"""What the daemon's last cycle says about the daemon, read on the reader's clock."""

from __future__ import annotations

STALE_AFTER = 3
"""Intervals after which a cycle is stale: the daemon is not cycling (`nmsquota status`,
the console, the check plugin and the MIB's scalar all say so from the same rule)."""


def stale(age: float, interval: int, simulated: bool) -> bool:
    """A cycle `age` seconds old is stale. One run on a simulated clock never is: it is the
    last of a run that ended (`nmsquota demo`), not a daemon that stopped."""
    return not simulated and age > STALE_AFTER * interval
