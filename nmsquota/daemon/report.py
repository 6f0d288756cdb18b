"""What one cycle did, as the daemon logs it and keeps it in the ledger's health record."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from nmsquota.enforcement.reconcile import Drifting, Outcome
from nmsquota.snmp.cycle import Load


@dataclass
class CycleReport:
    number: int
    started: float
    due: float
    seconds: float = 0.0
    devices_ok: list[str] = field(default_factory=list)
    devices_failed: dict[str, str] = field(default_factory=dict)
    devices_skipped: list[str] = field(default_factory=list)
    """Not polled: the interval could not hold them (load, not the devices' fault)."""
    causes: dict[str, str] = field(default_factory=dict)
    """Failed device -> why: timeout, deadline or error."""
    cpu: float = 0.0
    """CPU seconds the poll took."""
    poll_seconds: float = 0.0
    """Wall seconds the poll took: the rest of the cycle is charging, deciding, writing."""
    queued: int = 0
    """Walks that waited for others before they could start."""
    varbinds: int = 0
    """Varbinds the access servers that answered read."""
    device_cost: float = 0.0
    """CPU seconds a device of the typical size costs, as measured."""
    capacity: int | None = None
    """Devices of the typical size the machine can poll per interval at that cost."""
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

    def take_load(self, load: Load, capacity: int) -> None:
        """What the poll's scheduling says of the machine's load (nmsquota.snmp.cycle)."""
        self.devices_skipped = list(load.skipped)
        self.causes = {name: str(cause) for name, cause in load.failed.items()}
        self.cpu, self.queued, self.varbinds = load.cpu, load.queued, load.varbinds
        self.poll_seconds = load.seconds
        self.device_cost, self.capacity = load.per_device, capacity

    def load_line(self) -> str:
        """The saturation part of the cycle's log line."""
        causes = Counter(self.causes.values())
        failed = f"{len(self.devices_failed)} failed"
        if causes:
            failed += " (" + ", ".join(f"{n} {c}" for c, n in sorted(causes.items())) + ")"
        return (f"{len(self.devices_skipped)} skipped for load, {failed}; polled in "
                f"{self.poll_seconds:.1f}s, {self.cpu:.1f}s CPU, {self.queued} walks queued"
                )  # fmt: skip


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
