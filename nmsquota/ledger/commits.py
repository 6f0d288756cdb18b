"""Which commit a ledger is at, told from outside without reading it. Light on purpose (the
check plugin asks it): os and json only.

A TinyDB ledger replaces state.json whole at every commit (written aside, then renamed), so
its inode, size and modification time change with each one. A database ledger has no file:
the daemon that writes it marks each of its commits in commit.json in its own data
directory (`mark`), and the readers on that host (the check plugin, snmp-pass, the NMS
summary, the report site) follow that file the same way.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

STATE_NAME = "state.json"
MARKER_NAME = "commit.json"

Identity = tuple[int, int, int]
"""state.json (or commit.json) as (inode, size, modification time in ns)."""


def identity(directory: Path) -> Identity | None:
    """The identity of the ledger's state.json in `directory`, else of the commit marker
    there; None when neither is there (or they cannot be looked at)."""
    for name in (STATE_NAME, MARKER_NAME):
        try:
            found = os.stat(directory / name)
        except OSError:
            continue
        return (found.st_ino, found.st_size, found.st_mtime_ns)
    return None


def mark(directory: Path, where: str, seq: int, as_of: int | None) -> None:
    """Mark a commit of the ledger at `where` (shown without a password) in `directory`'s
    commit.json: written aside and renamed, so a reader sees the old mark or the new one.
    Not fsynced: it only tells readers when to read again, and the ledger is the record."""
    text = json.dumps({"ledger": where, "seq": seq, "as_of": as_of}) + "\n"
    aside = directory / f".{MARKER_NAME}.{os.getpid()}"
    aside.write_text(text)
    os.replace(aside, directory / MARKER_NAME)
