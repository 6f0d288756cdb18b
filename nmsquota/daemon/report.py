"""What one cycle did, as the daemon logs it and keeps it in the ledger's health record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nmsquota.enforcement.reconcile import Drifting, Outcome


@dataclass
class CycleReport:
    number: int
    started: float
    due: float
    seconds: float = 0.0
    devices_ok: list[str] = field(default_factory=list)
    devices_failed: dict[str, str] = field(default_factory=dict)
    limited: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    drivers: dict[str, dict[str, Any]] = field(default_factory=dict)
    no_plan: list[str] = field(default_factory=list)
    not_effective: list[str] = field(default_factory=list)
    """Limited subscribers whose measured rate says the limit does not bite (verify)."""
    skipped: int = 0
    """Cycles skipped since the daemon started, because one overran its slot."""
    installed: dict[str, list[str]] = field(default_factory=dict)
    """Driver -> whom it holds limited after the cycle."""
    ledger_error: str | None = None
    """Why the cycle could not be written to the ledger (None: it was). The drivers still
    acted on its decisions; the next cycle counts its bytes."""

    @property
    def lateness(self) -> float:
        return max(0.0, self.started - self.due)


def outcome_record(outcome: Outcome) -> dict[str, Any]:
    """What a driver's reconciliation did, as the health record and a control reply keep it."""
    return {
        "added": [limit.subscriber for limit in outcome.added],
        "removed": [limit.describe() for limit in outcome.removed],
        "unenforceable": [limit.subscriber for limit in outcome.unenforceable],
        "drift": outcome.drift,
        "errors": outcome.errors,
        "drifting": _drifting(outcome.drifting),
    }


def _drifting(drifting: Drifting | None) -> dict[str, Any] | None:
    """Drift kept across cycles until put right, as the health record and replies keep it."""
    if drifting is None:
        return None
    return {"since": drifting.since, "cycles": drifting.cycles, "lines": list(drifting.lines)}
