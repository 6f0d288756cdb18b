"""What the daemon writes into the ledger, and reads back of its own: a cycle's samples and
counter baselines, the policy's standings and limits, the cycle's health."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any
from weakref import WeakKeyDictionary

from nmsquota.attribution import SessionKey, baselines_from_state, baselines_to_state
from nmsquota.counters import Reading
from nmsquota.ledger import Ledger
from nmsquota.ledger import Limit as LedgerLimit
from nmsquota.ledger.records import (
    CapStanding,
    CheckRecord,
    DriftRecord,
    DriverOutcomeRecord,
    HealthRecord,
    StandingRecord,
)
from nmsquota.policy import Decision, Evaluation, Standing
from nmsquota.snmp.cycle import DeviceResult
from nmsquota.usage import Sample, Totals
from nmsquota.verify import Check

from .report import CycleReport


def commit_poll(ledger: Ledger, results: Sequence[DeviceResult], now: float) -> dict[str, Totals]:
    """Record one cycle in the ledger as one commit: the samples of every device that
    answered, and its new baselines, together; so a crash loses both or neither, and a
    restart resumes from the baselines without charging anything twice. A device that did
    not answer keeps its old baselines, so its next answer covers the whole gap once.

    Returns what each subscriber moved, all their sessions together (verify and the
    projected looks use it)."""
    totals: dict[str, list[int]] = {}
    with ledger.batch():
        for result in results:
            if result.attribution is None:
                continue
            ledger.set_counter_state(
                result.device, baselines_to_state(result.attribution.baselines)
            )
            for sample in result.attribution.samples:
                total = totals.setdefault(sample.subscriber, [0, 0])
                total[0] += sample.bytes_in
                total[1] += sample.bytes_out
        samples = [Sample(name, int(now), down, up) for name, (down, up) in sorted(totals.items())]
        ledger.commit(now, samples)
    return {name: Totals(down, up) for name, (down, up) in totals.items()}


@dataclass
class WriteFailures:
    """Whether the daemon's ledger writes are failing, since when and why.

    Kept in memory and told over the control socket (ping), never in the ledger: the disk
    that refuses the cycle's write would refuse this too, and status must hear of it while
    it lasts. Nothing else of a failed cycle is kept: its samples are not lost, because the
    counter baselines stay at the last commit and the next cycle that writes charges the
    whole gap since then, once."""

    since: float | None = None
    error: str = ""
    cycles: int = 0
    """Cycles (and looks) whose write failed since the last one that succeeded."""

    def failed(self, now: float, error: str) -> None:
        if self.since is None:
            self.since = now
        self.error = error
        self.cycles += 1

    def succeeded(self) -> tuple[float, int] | None:
        """The end of a run of failures: (since, how many), or None if there was none."""
        if self.since is None:
            return None
        ended = (self.since, self.cycles)
        self.since, self.error, self.cycles = None, "", 0
        return ended

    def reply(self) -> dict[str, Any] | None:
        """For the control socket's ping: None while writes succeed."""
        if self.since is None:
            return None
        return {"failing_since": self.since, "error": self.error, "cycles": self.cycles}


def stored_baselines(ledger: Ledger | None) -> Callable[[str], Mapping[SessionKey, Reading]]:
    """Baselines per device as the ledger holds them (none without a ledger)."""

    def baselines(device: str) -> Mapping[SessionKey, Reading]:
        return baselines_from_state(ledger.counter_state(device)) if ledger else {}

    return baselines


_READ: WeakKeyDictionary[Ledger, dict[str, tuple[StandingRecord, Standing]]]
_READ = WeakKeyDictionary()
"""Per ledger, each subscriber's standing record as last read, with its Standing: a record
carried over unchanged (see _MADE) is the same object, and its Standing is not made again."""

_MADE: WeakKeyDictionary[Ledger, dict[str, tuple[tuple[Any, ...], StandingRecord]]]
_MADE = WeakKeyDictionary()
"""Per ledger, each subscriber's standing record as record_decisions last made it, with
what it was made of (_made_of): a decision that would make the same record gets that
record itself, not a new one to build, compare and dump (most of 1,000 subscribers' each
cycle)."""


def standings_of(ledger: Ledger) -> dict[str, Standing]:
    """The standings the last decision left, for the next one to start from."""
    known = _READ.get(ledger, {})
    found: dict[str, tuple[StandingRecord, Standing]] = {}
    for record in ledger.records.standings():
        before = known.get(record.subscriber)
        if before is not None and before[0] is record:
            found[record.subscriber] = before
        else:
            found[record.subscriber] = (record, _standing(record))
    _READ[ledger] = found
    return {name: standing for name, (_, standing) in found.items()}


def checks_of(ledger: Ledger) -> dict[str, Check]:
    """Whether each limit bites, as the last cycle left it (carried over a restart)."""
    return {r.subscriber: Check(**asdict(r.check)) for r in ledger.records.standings()
            if r.check is not None}  # fmt: skip


def record_decisions(ledger: Ledger, evaluation: Evaluation, checks: Mapping[str, Check],
                     drivers: Iterable[str], now: int) -> None:  # fmt: skip
    """The policy's decisions as standings and limits (the caller holds a batch)."""
    before = _MADE.get(ledger, {})
    made: dict[str, tuple[tuple[Any, ...], StandingRecord]] = {}
    standings = []
    for decision in evaluation.decisions.values():
        check = checks.get(decision.subscriber)
        kept = check if check and (check.over or check.flagged) else None
        # Every cap of a limited subscriber (status shows them); of the others only the
        # caps with a standing to carry (warned): the rest start from nothing.
        caps = [cap for cap in decision.caps if decision.limited or cap.warned
                ] if len(decision.caps) > 1 else []  # fmt: skip
        key = _made_of(decision, kept, caps)
        last = before.get(decision.subscriber)
        if last is not None and last[0] == key:
            record = last[1]
        else:
            record = StandingRecord(
                **_standing_fields(decision), subscriber=decision.subscriber,
                check=CheckRecord(**asdict(kept)) if kept is not None else None,
                caps=tuple(_standing_record(cap) for cap in caps),
            )  # fmt: skip
        made[decision.subscriber] = (key, record)
        standings.append(record)
    _MADE[ledger] = made
    ledger.records.set_standings(standings)
    # One write of the table, not one per limit (each of those rescanned it).
    names = ",".join(drivers)
    ledger.records.set_limits(
        LedgerLimit(d.subscriber, d.since or now, d.reason, names, d.rate_bps)
        for d in evaluation.limited
    )


def record_health(ledger: Ledger, report: CycleReport, interval: int, updated: float, *,
                  deciding: bool = True, plans_fingerprint: str = "") -> None:  # fmt: skip
    """The cycle's health record, with the POP that ran it (the ledger writer's), whether
    this daemon decided in it, and the fingerprint of the plans it runs."""
    drivers = {name: _driver_record(outcome, report.installed.get(name))
               for name, outcome in report.drivers.items()}  # fmt: skip
    record = HealthRecord(
        number=report.number, started=report.started, due=report.due, seconds=report.seconds,
        devices_ok=tuple(report.devices_ok), devices_failed=dict(report.devices_failed),
        limited=tuple(report.limited), changed=tuple(report.changed), drivers=drivers,
        no_plan=tuple(report.no_plan), not_effective=tuple(report.not_effective),
        skipped=report.skipped, lateness=report.lateness, interval=interval, updated=updated,
        devices_skipped=tuple(report.devices_skipped), causes=dict(report.causes),
        cpu=report.cpu, queued=report.queued, device_cost=report.device_cost,
        capacity=report.capacity, varbinds=report.varbinds, pop=ledger.pop,
        deciding=deciding, plans_fingerprint=plans_fingerprint,
    )  # fmt: skip
    with ledger.batch():
        ledger.records.set_health(record)


def _driver_record(outcome: Mapping[str, Any], installed: list[str] | None) -> DriverOutcomeRecord:
    """A driver's part of the health record, from its outcome (report.outcome_record)."""
    drifting = outcome.get("drifting")
    lists = {k: tuple(v) for k, v in outcome.items() if k != "drifting"}
    kept = None
    if drifting is not None:
        kept = DriftRecord(since=drifting["since"], cycles=drifting["cycles"],
                           lines=tuple(drifting["lines"]))  # fmt: skip
    return DriverOutcomeRecord(**lists, installed=_tuple(installed), drifting=kept)


def _tuple(names: list[str] | None) -> tuple[str, ...] | None:
    return tuple(names) if names is not None else None


_FIELDS = ("state", "since", "reason", "warned", "used", "cap", "cap_name", "step", "step_at",
           "rate")  # fmt: skip


def _standing_values(decision: Decision) -> tuple[Any, ...]:
    """What the ledger keeps of a decision, in _FIELDS' order: the standing the next cycle
    starts from, and what status shows."""
    return (decision.state, decision.since, decision.why,
            tuple(sorted(decision.warned)) if decision.warned else (), decision.used,
            decision.cap, decision.cap_name, decision.step,
            decision.step_at if decision.step is not None else None,
            decision.rate_bps if decision.limited else 0)  # fmt: skip


def _standing_fields(decision: Decision) -> dict[str, Any]:
    return dict(zip(_FIELDS, _standing_values(decision), strict=True))


def _made_of(decision: Decision, check: Check | None, caps: list[Decision]) -> tuple[Any, ...]:
    """Everything a subscriber's standing record is made of (record_decisions): equal for
    two decisions that make equal records."""
    return (decision.subscriber, _standing_values(decision), check,
            tuple(_standing_values(cap) for cap in caps))  # fmt: skip


def _standing_record(decision: Decision) -> CapStanding:
    return CapStanding(**_standing_fields(decision))


def _standing(record: CapStanding) -> Standing:
    caps = record.caps if isinstance(record, StandingRecord) else ()
    return Standing(record.state, record.since, record.reason, frozenset(record.warned),
                    tuple((cap.cap_name, _standing(cap)) for cap in caps), record.rate,
                    record.step)  # fmt: skip
