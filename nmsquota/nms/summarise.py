"""The NMS summary made from a snapshot (nmsquota.nms.summary says what it is and why), and
the daemon's writer of it: a thread that, after each commit, reads the ledger through the
read API and replaces the summary whole."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from nmsquota.config import Config
from nmsquota.errors import NmsquotaError
from nmsquota.ledger.commits import Identity, identity
from nmsquota.ledger.storage import write_text_atomically
from nmsquota.nms.counts import counts
from nmsquota.nms.summary import (
    CapFacts,
    CycleFacts,
    DriverFacts,
    LimitFacts,
    PopFacts,
    SubscriberFacts,
    Summary,
    path_in,
    subscriber_lines,
)
from nmsquota.standings import CycleView, DriverView, PopView, Reader, Snapshot, SubscriberView
from nmsquota.standings.follow import CommitFollower

log = logging.getLogger(__name__)


def summary_of(snap: Snapshot, state: Identity) -> Summary:
    """The summary of `snap`, made from the state.json whose identity is `state`."""
    return Summary(
        as_of=snap.as_of,
        state=state,
        cycle=None if snap.cycle is None else _cycle(snap.cycle, snap),
        counts=counts(snap),
        limits=tuple((limit.subscriber, str(limit.reason)) for limit in snap.limits),
        lines=subscriber_lines(facts_of(view) for view in snap.subscribers),
        pops=tuple(_pop(pop) for pop in snap.pops) if snap.several_pops else (),
    )


def _pop(pop: PopView) -> PopFacts:
    return PopFacts(
        name=pop.name, deciding=pop.deciding, number=pop.number, started=pop.started,
        interval=pop.interval, simulated=pop.simulated, devices_ok=tuple(pop.devices_ok),
        devices_failed=dict(pop.devices_failed), sessions=pop.sessions,
        other_plans=pop.other_plans, drivers=_drivers(pop.drivers),
    )  # fmt: skip


def facts_of(view: SubscriberView) -> SubscriberFacts:
    limit = view.limit
    check = view.check
    return SubscriberFacts(
        name=view.name,
        plan=view.plan,
        state=str(view.state),
        caps=tuple(
            CapFacts(
                label=cap.label,
                used=cap.used,
                cap=cap.cap,
                percent=cap.percent,
                state=str(cap.state),
                step_at=cap.step_at,
            )
            for cap in view.caps
        ),
        limit=None if limit is None else LimitFacts(limit.rate_bps or 0, str(limit.reason)),
        measured_bps=check.measured_bps if check is not None and check.flagged else None,
    )


def _cycle(cycle: CycleView, snap: Snapshot) -> CycleFacts:
    measured = (view.name for view in snap.limited if view.not_effective)
    return CycleFacts(
        number=cycle.number,
        started=cycle.started,
        interval=cycle.interval,
        seconds=cycle.seconds,
        lateness=cycle.lateness,
        simulated=cycle.simulated,
        devices_ok=tuple(cycle.devices_ok),
        devices_failed=dict(cycle.devices_failed),
        devices_skipped=tuple(cycle.devices_skipped),
        causes=dict(cycle.causes),
        not_effective=tuple(sorted({*cycle.not_effective, *measured})),
        drivers=_drivers(cycle.drivers),
    )


def _drivers(drivers: Iterable[DriverView]) -> tuple[DriverFacts, ...]:
    return tuple(
        DriverFacts(
            name=d.name,
            health=d.health,
            errors=tuple(d.errors),
            unenforceable=tuple(d.unenforceable),
            added=len(d.added),
            removed=len(d.removed),
            problems=tuple(d.problems),
        )
        for d in drivers
    )


NOT_A_FILE: Identity = (0, 0, 0)
"""The identity of a summary made while commits kept replacing state.json: no file has
inode 0, so no reader takes it for current, and the writer does not write it."""


def read(directory: Path, config: Config | None, location: Path | str | None = None) -> Summary:
    """A summary of the ledger in `directory` (or at `location`, with its commits marked in
    `directory`) as it is now, read through the read API (NmsquotaError or OSError when the
    ledger cannot be read)."""
    for _ in range(3):
        before = identity(directory)
        with Reader.open(directory if location is None else location, config) as reader:
            snap = reader.snapshot()
        # A commit between the stat and the read would name the wrong file: read again.
        if before is not None and identity(directory) == before:
            return summary_of(snap, before)
    return summary_of(snap, NOT_A_FILE)


def write(directory: Path, summary: Summary) -> None:
    write_text_atomically(path_in(directory), summary.encode().decode())


class SummaryWriter(CommitFollower):
    """A thread of the daemon's that keeps `directory`'s summary current: after each commit
    it rewrites the summary with the configuration `config()` gives (the one SIGHUP loaded).
    A read or a write that fails is logged once per kind and tried again at the next commit
    (the check plugin then reads the ledger itself, slower but right)."""

    expected = (NmsquotaError, OSError)
    log = log

    def __init__(self, directory: Path, config: Callable[[], Config | None],
                 every: float = 1.0, location: Path | str | None = None) -> None:  # fmt: skip
        super().__init__(directory, every=every, name="nmsquota-summary")
        self.config = config
        self.location = location
        """The ledger, when not in `directory` (a database whose commits are marked there)."""
        self.what = f"the NMS summary ({path_in(directory)})"

    def work(self, state: Identity) -> Identity | None:
        started = time.perf_counter()
        summary = read(self.directory, self.config(), self.location)
        if summary.state == NOT_A_FILE:
            return None
        write(self.directory, summary)
        log.debug("NMS summary of %d subscribers written in %.3fs", summary.counts.subscribers,
                  time.perf_counter() - started)  # fmt: skip
        return summary.state
