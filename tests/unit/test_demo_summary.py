"""The demo's summary: which of a subscriber's caps they met first."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from nmsquota.commands.demo import cap_order
from nmsquota.sim.demo import Change

UTC = ZoneInfo("UTC")
SUN = 1_000_000_800  # Sunday 9 September 2001, 02:00 UTC
HOUR = 3600


def change(hours: float, event: str, *over: str, who: str = "biguser") -> Change:
    return Change(SUN + hours * HOUR, who, event, 3_000, over[0] if over else "", over)


def test_the_cap_met_first_in_the_last_spell_with_two() -> None:
    changes = [
        change(0, "limited", "1d", "7d"),  # over both at start: at once
        change(10, "released"),
        change(12, "limited", "1d"),
        change(13, "limited", "1d", "7d"),
        change(14, "limited", "7d", who="heavy2"),
    ]
    assert cap_order(changes, "biguser", UTC) == (
        "biguser met the daily cap (1d) at Sun 14:00, before the weekly cap (7d) at Sun 15:00."
    )
    assert cap_order(changes[:2], "biguser", UTC) == (
        "biguser was over the daily cap (1d) and the weekly cap (7d) at once, at Sun 02:00."
    )
    assert cap_order(changes[1:3], "biguser", UTC) == ""  # one cap only
    assert cap_order(changes, "heavy2", UTC) == ""
