"""What `nmsquota rebuild` can keep of a state.json that does not read whole.

state.json is one JSON object of TinyDB tables ({"ledger": {...}, "tallies": {...},
"overrides": {...}, ...}). A file that is cut short or damaged in one place usually still
holds whole tables before and after the damage: each known table is looked for by its
name and kept if its value parses on its own. The records in it are then validated by the
ledger like any others; what does not validate is lost, never guessed at.

What each table is worth, and what losing it costs, is said here once, for rebuild's report
and for the advice that sends an operator to rebuild.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nmsquota.ledger.errors import ADVICE as ADVICE  # re-exported: rebuild's advice, said once

META = "ledger"
TALLIES = "tallies"
COUNTERS = "counters"

WHAT = {
    "overrides": "overrides (force, exempt, top-ups)",
    "limits": "limits in force",
    "standings": "standings (warnings sent, hysteresis, limit checks)",
    "events": "the event log",
    COUNTERS: "the poller's counter baselines",
    "provisioned": "subscribers added with `subscribers add`",
    "subscribers": "the configuration's subscribers",
    "plans": "the configuration's plans",
    "daemon": "the last cycle's health",
    "devices": "access servers seen",
    "sessions": "sessions seen",
}
"""The tables rebuild salvages, as an operator would name them, in the order reported."""

COST = {
    "overrides": "set them again",
    "limits": "the next cycle limits again whoever the usage files put over a cap",
    "standings": "warnings may be sent again, and a limit kept by hysteresis below the cap "
    "is lifted",
    "events": "the log starts empty",
    COUNTERS: "the bytes between the last commit and the daemon's next poll are not counted",
    "provisioned": "add them again",
    "subscribers": "the daemon stores them again at start",
    "plans": "the daemon stores them again at start",
    "daemon": "the next cycle writes it",
    "devices": "the next cycle sees them again",
    "sessions": "the next poll sees them again",
}
"""What losing each table costs, and who brings it back."""

MISSING_ADVICE = (
    "stop the daemon and run `nmsquota rebuild` to make a new one: it recounts every window "
    "from the usage files; what only state.json held is lost (overrides, limits in force, "
    "standings, the event log, counter baselines, provisioned subscribers), unless a copy "
    "is restored instead"
)
"""What a missing state.json beside usage files asks the operator to do."""


@dataclass
class Salvage:
    """What rebuild kept of an unreadable (or missing) state.json, and what it lost."""

    problem: str
    """Why state.json did not read."""
    aside: Path | None
    """Where the unreadable file was moved (None: there was no file)."""
    kept: dict[str, int] = field(default_factory=dict)
    """Table -> records kept."""
    lost: dict[str, str] = field(default_factory=dict)
    """Table -> why it was not kept."""

    def lines(self) -> list[str]:
        """The report, a line per table lost, for rebuild's output."""
        where = f"; moved to {self.aside}" if self.aside is not None else ""
        found = [f"state.json {self.problem}{where}"]
        kept = [f"{WHAT[name]} ({self.kept[name]})" for name in WHAT if self.kept.get(name)]
        found.append("kept: " + (", ".join(kept) if kept else "nothing but the usage files"))
        for name in WHAT:
            if name in self.lost:
                found.append(f"lost: {WHAT[name]} ({self.lost[name]}): {COST[name]}")
        return found


def readable_tables(raw: bytes) -> dict[str, Any]:
    """Every known table of state.json whose value still parses on its own, by name. A
    table whose name is nowhere in a file that ends where it should was never written: it
    is there, empty. One cut short may have lost any table after the cut: not there."""
    names = (META, TALLIES, *WHAT)
    try:
        whole = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        pass
    else:
        if not isinstance(whole, dict):
            return {}
        return {name: whole.get(name, {}) for name in names if _is_table(whole.get(name, {}))}
    text = raw.decode("utf-8", errors="replace")
    ends = text.rstrip().endswith("}")
    decoder = json.JSONDecoder()
    tables: dict[str, Any] = {}
    for name in names:
        # The name as a key: a quote right after it, so that the same word inside a string
        # (where quotes are escaped) never matches.
        keys = list(re.finditer(re.escape(json.dumps(name)) + r"\s*:\s*", text))
        if not keys and ends:
            tables[name] = {}
        for found in keys:
            try:
                value, _ = decoder.raw_decode(text, found.end())
            except (ValueError, RecursionError):
                continue
            if _is_table(value):
                tables[name] = value
                break
    return tables


def _is_table(value: Any) -> bool:
    """A TinyDB table: documents by their id (digits)."""
    return isinstance(value, dict) and all(
        isinstance(key, str) and key.isdigit() and isinstance(doc, dict)
        for key, doc in value.items()
    )
