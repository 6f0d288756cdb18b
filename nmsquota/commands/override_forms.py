"""How overrides and top-ups are shown, in text and in --json: one form for `status`, `usage`
and `overrides list`. Presentation only: what is left of a top-up is the read API's
(nmsquota.standings.topups), and nothing here reaches the daemon."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from nmsquota import units
from nmsquota.standings import CapView, OverrideRecord, TopupView


def expiry(until: int | None, zone: ZoneInfo) -> str:
    """When an override ends: "until removed", or the minute it expires."""
    if until is None:
        return "until removed"
    return datetime.fromtimestamp(until, zone).strftime("%Y-%m-%d %H:%M")


def topup_line(cap: CapView, topup: TopupView, zone: ZoneInfo) -> str:
    """A top-up as `status` shows it under its override: amount, what is left, expiry."""
    return (f"  top-up on cap {cap.label}: {units.format_bytes(topup.amount)}, "
            f"{units.format_bytes(topup.left)} left, {expiry(topup.until, zone)}")  # fmt: skip


def topup_json(cap: CapView, topup: TopupView) -> dict[str, Any]:
    """A top-up on one cap in the --json outputs. `cap`: the cap's name in a plan of
    several, null in a one-cap plan."""
    return {"id": topup.id, "cap": cap.name or None, "amount": topup.amount,
            "left": topup.left, "until": topup.until,
            "reason": topup.override.reason}  # fmt: skip


def override_json(override: OverrideRecord) -> dict[str, Any]:
    """An override in `overrides list --json`: every field, the id first."""
    return {"id": override.id, "subscriber": override.subscriber, "kind": override.kind,
            "cap": override.cap, "bytes": override.bytes, "reason": override.reason,
            "author": override.author, "since": override.since,
            "until": override.until}  # fmt: skip
