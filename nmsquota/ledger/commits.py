"""Which commit a ledger is at, told from outside without reading it: every commit replaces
state.json whole (written aside, then renamed), so its inode, size and modification time
change with each one. Light on purpose (the check plugin asks it): os only.
"""

from __future__ import annotations

import os
from pathlib import Path

STATE_NAME = "state.json"

Identity = tuple[int, int, int]
"""state.json as (inode, size, modification time in ns)."""


def identity(directory: Path) -> Identity | None:
    """The identity of the ledger's state.json in `directory`; None when it is not there
    (or cannot be looked at)."""
    try:
        found = os.stat(directory / STATE_NAME)
    except OSError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns)
