"""Notifications reach the hooks in the order the changes happened."""

from __future__ import annotations

import sys
from pathlib import Path

from nmsquota.config import Notify
from nmsquota.notify import Notifier
from nmsquota.policy import Decision
from nmsquota.verdict import State

# Appends its event to a file; the first event's hook is slow, as a hook on a busy host is.
HOOK = (
    "import sys, time\n"
    "path, event = sys.argv[1], sys.argv[2]\n"
    "if event.startswith('step'): time.sleep(0.5)\n"
    "open(path, 'a').write(event + chr(10))\n"
)


def decision(state: State) -> Decision:
    return Decision("alice", 900, 1000, state, None, None)


def test_a_subscribers_changes_reach_the_hook_in_the_order_they_happened(tmp_path: Path) -> None:
    record = tmp_path / "told"
    notifier = Notifier(Notify(command=[sys.executable, "-c", HOOK, str(record), "{event}"]))
    notifier.send("alice", "step 80% of 1d", decision(State.STEPPED))
    notifier.send("alice", "limited", decision(State.LIMITED))
    notifier.close()  # waits for the hooks in flight
    assert record.read_text().splitlines() == ["step 80% of 1d", "limited"]
