"""Moments and spans as the console's screens show them: compact, in one time zone."""

from __future__ import annotations

from datetime import datetime, tzinfo


def moment(when: float | None, zone: tzinfo | None, today: float | None = None) -> str:
    """ "14:05:00" on the day of `today` (the last commit), "Mon 13 Aug 14:05" on another
    day, "-" for no moment. `zone` None: this machine's local time."""
    if when is None:
        return "-"
    shown = datetime.fromtimestamp(when, zone)
    if today is not None and shown.date() == datetime.fromtimestamp(today, zone).date():
        return shown.strftime("%H:%M:%S")
    return shown.strftime("%a %d %b %H:%M")


def seconds(span: float | None) -> str:
    """A latency or a cycle's duration: "12 ms", "1.4 s", "-" for none."""
    if span is None:
        return "-"
    return f"{span * 1000:.0f} ms" if span < 1 else f"{span:.1f} s"
