"""Whether the running daemon can write its ledger, asked over its control socket (ping):
what `nmsquota status` and the console's banner both say of a full disk.

The daemon is asked because the ledger cannot say it: the disk that refuses the cycle's
write refuses a note of the failure too, and until the last recorded cycle turns stale
(three intervals) the ledger alone looks healthy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nmsquota.control import socket_path


@dataclass(frozen=True, slots=True)
class WriteFailure:
    """The daemon's ledger writes are failing: since when, how many cycles (and looks) were
    not recorded since, and the last error."""

    since: float
    cycles: int
    error: str

    def as_json(self) -> dict[str, Any]:
        """As the daemon said it (status --json's `ledger_write_failure`)."""
        return {"failing_since": self.since, "error": self.error, "cycles": self.cycles}

    def sentence(self, since: str) -> str:
        """One line, with `since` already written in the reader's time zone."""
        return (f"ledger: writes failing since {since} ({self.cycles} not recorded; the "
                f"ledger shows the last good commit): {self.error}")  # fmt: skip


def write_failure(directory: Path, timeout: float = 5.0) -> WriteFailure | None:
    """Ping the daemon on the ledger `directory`'s control socket: its write failure, or
    None when no daemon answers (none runs, it is too slow for `timeout`, this user may not
    ask it) or its writes succeed. A daemon that cannot be asked is not an error here: the
    caller shows what the ledger shows, staleness included. Blocks up to `timeout` s: a
    screen calls it from a worker, never its UI thread."""
    # The ping's line, not the protocol's models: they would cost a check plugin more than
    # the rest of its call (see nmsquota.control.wire).
    from nmsquota.control.wire import PING_LINE, ControlError, exchange

    try:
        reply = exchange(socket_path(directory), PING_LINE, timeout=timeout)
    except ControlError:
        return None
    failing = reply.get("ledger_write_failure") if reply is not None else None
    if not isinstance(failing, dict):
        return None
    since, cycles = failing.get("failing_since"), failing.get("cycles", 0)
    if not isinstance(since, int | float) or isinstance(since, bool):
        return None
    count = cycles if isinstance(cycles, int) and not isinstance(cycles, bool) else 0
    return WriteFailure(since, count, str(failing.get("error", "")))
